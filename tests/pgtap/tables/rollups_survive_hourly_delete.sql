BEGIN;
SELECT plan(5);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 10, '2026-03-01 10:00+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', false, 30, '2026-03-01 20:00+00');
SELECT pgmetrics.record_operation_metric('job', true, 5, '2026-03-01 10:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

-- What a retention job does: delete expired hourly rows.
DELETE FROM pgmetrics.route_metrics WHERE period_start < '2026-03-02';
DELETE FROM pgmetrics.operation_metrics WHERE period_start < '2026-03-02';

SELECT is((SELECT count(*) FROM pgmetrics.route_metrics), 0::bigint, 'the hourly route rows are gone');
SELECT results_eq(
    $$SELECT route, method, period_start, total_requests, successful, failed, total_duration_ms,
             min_duration_ms, max_duration_ms, last_request_at
      FROM pgmetrics.route_metrics_rollup WHERE grain = 'day'$$,
    $$VALUES ('/a', 'GET', '2026-03-01 00:00+00'::timestamptz, 2::bigint, 1::bigint, 1::bigint, 40::float8,
              10::float8, 30::float8, '2026-03-01 20:00+00'::timestamptz)$$,
    'the daily route row is unchanged by the DELETE'
);
SELECT results_eq(
    $$SELECT operation, total_executions FROM pgmetrics.operation_metrics_rollup WHERE grain = 'day'$$,
    $$VALUES ('job', 1::bigint)$$,
    'the daily operation row is unchanged by the DELETE'
);

-- A late event for the expired day adds to the daily row that is still there.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 1, '2026-03-01 23:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT results_eq(
    $$SELECT total_requests, min_duration_ms, max_duration_ms FROM pgmetrics.route_metrics_rollup WHERE grain = 'day'$$,
    $$VALUES (3::bigint, 1::float8, 30::float8)$$,
    'a late event adds to the surviving daily row'
);
SELECT ok(
    NOT EXISTS (
        SELECT FROM pg_trigger
        WHERE tgrelid IN ('pgmetrics.route_metrics'::regclass, 'pgmetrics.operation_metrics'::regclass)
          AND NOT tgisinternal AND (tgtype & 8) <> 0
    ),
    'no trigger fires on DELETE of hourly rows'
);

SELECT * FROM finish();
ROLLBACK;
