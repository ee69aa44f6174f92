BEGIN;
SELECT plan(7);

SET LOCAL timezone = 'UTC';
-- Three days of events; retention then expires the hourly detail of the first day.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 10, '2026-03-01 03:00+00');  -- 22:00 EST on Feb 28
SELECT pgmetrics.record_route_metric('/a', 'GET', false, 20, '2026-03-01 15:00+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 30, '2026-03-02 06:00+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 40, '2026-03-02 18:00+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 50, '2026-03-03 12:00+00');
SELECT pgmetrics.record_operation_metric('job', true, 1, '2026-03-01 15:00+00');
SELECT pgmetrics.record_operation_metric('job', true, 2, '2026-03-03 15:00+00');
-- retention_days is 90: the detail cutoff is 2026-03-02 00:00 UTC.
SELECT pgmetrics.run_retention('2026-05-31 12:00+00');

SELECT results_eq(
    $$SELECT total_requests, successful, failed, total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-04', 'all')$$,
    $$VALUES (5::bigint, 4::bigint, 1::bigint, 150::float8, 10::float8, 50::float8, '2026-03-03 12:00+00'::timestamptz)$$,
    'bucket all over whole UTC days adds up from the day rollup where the hours have expired'
);
SELECT results_eq(
    $$SELECT bucket_start, total_requests, total_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-04', 'day')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, 2::bigint, 30::float8),
             ('2026-03-02 00:00+00', 2, 70),
             ('2026-03-03 00:00+00', 1, 50)$$,
    'UTC days are read whole from the day rollup, the expired one included'
);
SELECT results_eq(
    $$SELECT bucket_start, total_requests
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-09', 'week')$$,
    $$VALUES ('2026-02-23 00:00+00'::timestamptz, 2::bigint), ('2026-03-02 00:00+00', 3)$$,
    'UTC weeks add up across the oldest hourly row'
);
-- In New York: an expired UTC day counts in the local day containing its UTC noon (same date; the event at 03:00
-- UTC, 22:00 EST on Feb 28, counts on Mar 1), the hours still held in the local day of their start.
SELECT results_eq(
    $$SELECT bucket_start, total_requests, total_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-04', 'day', tz => 'America/New_York')$$,
    $$VALUES ('2026-03-01 05:00+00'::timestamptz, 2::bigint, 30::float8),
             ('2026-03-02 05:00+00', 2, 70),
             ('2026-03-03 05:00+00', 1, 50)$$,
    'a local-day summary still adds up: expired detail counts in the local day of the same date'
);
SELECT is(
    (SELECT sum(total_requests)::bigint
     FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-04', 'week', tz => 'Asia/Kolkata')),
    5::bigint,
    'local weeks in a half-hour zone add up too'
);
SELECT results_eq(
    $$SELECT bucket_start, total_requests
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-04', 'hour')$$,
    $$VALUES ('2026-03-02 06:00+00'::timestamptz, 1::bigint), ('2026-03-02 18:00+00', 1), ('2026-03-03 12:00+00', 1)$$,
    'hour buckets come from the detail tier only'
);
SELECT results_eq(
    $$SELECT operation, total_executions, total_duration_ms
      FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-04', 'all', tz => 'Europe/Berlin')$$,
    $$VALUES ('job', 2::bigint, 3::float8)$$,
    'operations add up across the oldest hourly row'
);

SELECT * FROM finish();
ROLLBACK;
