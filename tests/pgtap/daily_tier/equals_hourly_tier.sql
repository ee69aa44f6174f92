BEGIN;
SELECT plan(6);

-- Hours on both sides of a UTC midnight, keys recorded through every path that writes the hourly tier.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 10, '2026-03-01 23:10+00');
SELECT pgmetrics.record_route_metric('/a', 'get', false, 30, '2026-03-01 23:50+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 2, '2026-03-02 00:00+00');
SELECT pgmetrics.record_route_metric('/a', 'POST', true, 7, '2026-03-01 05:00+00');
SELECT pgmetrics.record_route_metric('/b', 'GET', true, 0.5, '2026-03-01 12:00+00');
SELECT pgmetrics.record_operation_metric('send_email', true, 100, '2026-03-01 23:59:59+00');
SELECT pgmetrics.record_operation_metric('send_email', false, 50, '2026-03-02 00:00:01+00');
SELECT pgmetrics.record_operation_metric('send_email', true, 25, '2026-03-01 01:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

-- A multi-row upsert, as a batch writer sends it: new hours and existing hours in one statement.
INSERT INTO pgmetrics.route_metrics AS m (
    route, method, period_start, period_end, total_requests, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
)
SELECT '/a', 'GET', h, h + interval '1 hour', 4, 3, 1, 40, 1, 20, h + interval '30 minutes'
FROM generate_series('2026-03-01 20:00+00'::timestamptz, '2026-03-02 03:00+00', interval '1 hour') AS h
ON CONFLICT (route, method, period_start) DO UPDATE SET
    total_requests = m.total_requests + excluded.total_requests,
    successful = m.successful + excluded.successful,
    failed = m.failed + excluded.failed,
    total_duration_ms = m.total_duration_ms + excluded.total_duration_ms,
    min_duration_ms = LEAST(m.min_duration_ms, excluded.min_duration_ms),
    max_duration_ms = GREATEST(m.max_duration_ms, excluded.max_duration_ms),
    last_request_at = GREATEST(m.last_request_at, excluded.last_request_at);

INSERT INTO pgmetrics.operation_metrics AS m (
    operation, period_start, period_end, total_executions, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at
)
SELECT 'send_email', h, h + interval '1 hour', 2, 2, 0, 0.25, 0.125, 0.125, h
FROM generate_series('2026-03-01 22:00+00'::timestamptz, '2026-03-02 01:00+00', interval '1 hour') AS h
ON CONFLICT (operation, period_start) DO UPDATE SET
    total_executions = m.total_executions + excluded.total_executions,
    successful = m.successful + excluded.successful,
    failed = m.failed + excluded.failed,
    total_duration_ms = m.total_duration_ms + excluded.total_duration_ms,
    min_duration_ms = LEAST(m.min_duration_ms, excluded.min_duration_ms),
    max_duration_ms = GREATEST(m.max_duration_ms, excluded.max_duration_ms),
    last_execution_at = GREATEST(m.last_execution_at, excluded.last_execution_at);

-- A plain UPDATE that moves counts too.
UPDATE pgmetrics.route_metrics SET total_requests = total_requests + 1, failed = failed + 1
WHERE route = '/b';

CREATE TEMP VIEW route_days AS
SELECT route, method, date_trunc('day', period_start, 'UTC') AS period_start,
       sum(total_requests)::bigint AS total_requests, sum(successful)::bigint AS successful,
       sum(failed)::bigint AS failed, sum(total_duration_ms) AS total_duration_ms,
       min(min_duration_ms) AS min_duration_ms, max(max_duration_ms) AS max_duration_ms,
       max(last_request_at) AS last_request_at
FROM pgmetrics.route_metrics GROUP BY 1, 2, 3;

CREATE TEMP VIEW operation_days AS
SELECT operation, date_trunc('day', period_start, 'UTC') AS period_start,
       sum(total_executions)::bigint AS total_executions, sum(successful)::bigint AS successful,
       sum(failed)::bigint AS failed, sum(total_duration_ms) AS total_duration_ms,
       min(min_duration_ms) AS min_duration_ms, max(max_duration_ms) AS max_duration_ms,
       max(last_execution_at) AS last_execution_at
FROM pgmetrics.operation_metrics GROUP BY 1, 2;

SELECT set_eq(
    $$SELECT route, method, period_start, total_requests, successful, failed, total_duration_ms,
             min_duration_ms, max_duration_ms, last_request_at FROM pgmetrics.route_metrics_daily$$,
    $$SELECT * FROM route_days$$,
    'every daily route row is the sum of its UTC day of hourly rows, after records, upserts and updates'
);
SELECT set_eq(
    $$SELECT operation, period_start, total_executions, successful, failed, total_duration_ms,
             min_duration_ms, max_duration_ms, last_execution_at FROM pgmetrics.operation_metrics_daily$$,
    $$SELECT * FROM operation_days$$,
    'every daily operation row is the sum of its UTC day of hourly rows, after records and upserts'
);
SELECT is((SELECT count(*) FROM pgmetrics.route_metrics_daily), 4::bigint,
    'one daily row per route, method and UTC day');
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_metrics_daily
     WHERE period_start <> date_trunc('day', period_start, 'UTC') OR period_end <> period_start + interval '1 day'),
    0::bigint,
    'daily rows span one UTC day'
);
SELECT results_eq(
    $$SELECT total_requests, failed FROM pgmetrics.route_metrics_daily WHERE route = '/b'$$,
    $$VALUES (2::bigint, 1::bigint)$$,
    'an UPDATE of an hourly row adds its difference to the day'
);
SELECT results_eq(
    $$SELECT total_executions, last_execution_at FROM pgmetrics.operation_metrics_daily
      WHERE period_start = '2026-03-02 00:00+00'$$,
    $$VALUES (5::bigint, '2026-03-02 01:00+00'::timestamptz)$$,
    'the last time of a day is the latest of its hours'
);

SELECT * FROM finish();
ROLLBACK;
