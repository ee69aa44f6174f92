BEGIN;
SELECT plan(6);

-- Folded detail of two days, then pending events on the same keys and days and on a new key.
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 10, '2026-03-01 10:05+00');
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 20, '2026-03-02 10:05+00');
SELECT pgmetrics.record_operation_metric('op', true, 10, '2026-03-01 10:05+00');
SELECT pgmetrics.fold_events();
SELECT pgmetrics.record_route_metric('/r', 'GET', false, 1, '2026-03-01 10:30+00');
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 50, '2026-03-02 23:59+00');
SELECT pgmetrics.record_route_metric('/new', 'PUT', true, 3, '2026-03-02 01:00+00');
SELECT pgmetrics.record_operation_metric('op', false, 30, '2026-03-01 11:00+00');

SELECT results_eq(
    $$SELECT bucket_start, route, total_requests, failed, total_duration_ms, min_duration_ms, max_duration_ms,
             last_request_at
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03', 'hour')$$,
    $$VALUES
        ('2026-03-01 10:00+00'::timestamptz, '/r', 2::bigint, 1::bigint, 11::float8, 1::float8, 10::float8,
         '2026-03-01 10:30+00'::timestamptz),
        ('2026-03-02 01:00+00'::timestamptz, '/new', 1::bigint, 0::bigint, 3::float8, 3::float8, 3::float8,
         '2026-03-02 01:00+00'::timestamptz),
        ('2026-03-02 10:00+00'::timestamptz, '/r', 1::bigint, 0::bigint, 20::float8, 20::float8, 20::float8,
         '2026-03-02 10:05+00'::timestamptz),
        ('2026-03-02 23:00+00'::timestamptz, '/r', 1::bigint, 0::bigint, 50::float8, 50::float8, 50::float8,
         '2026-03-02 23:59+00'::timestamptz)$$,
    'hourly buckets add the pending events to the hourly rows'
);
SELECT results_eq(
    $$SELECT bucket_start, route, total_requests, failed, total_duration_ms, min_duration_ms, max_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03', 'day')$$,
    $$VALUES
        ('2026-03-01 00:00+00'::timestamptz, '/r', 2::bigint, 1::bigint, 11::float8, 1::float8, 10::float8),
        ('2026-03-02 00:00+00'::timestamptz, '/new', 1::bigint, 0::bigint, 3::float8, 3::float8, 3::float8),
        ('2026-03-02 00:00+00'::timestamptz, '/r', 2::bigint, 0::bigint, 70::float8, 20::float8, 50::float8)$$,
    'UTC days read from the daily tier add the pending events of the day, one row per key and day'
);
SELECT results_eq(
    $$SELECT bucket_start, route, total_requests FROM pgmetrics.route_metrics_summary(
          '2026-03-01', '2026-03-03', 'day', tz => 'America/New_York')$$,
    $$VALUES
        ('2026-03-01 00:00-05'::timestamptz, '/new', 1::bigint),
        ('2026-03-01 00:00-05'::timestamptz, '/r', 2::bigint),
        ('2026-03-02 00:00-05'::timestamptz, '/r', 2::bigint)$$,
    'local days place pending events by their UTC hour'
);
SELECT results_eq(
    $$SELECT route, method, total_requests, total_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03', 'all', method => 'put')$$,
    $$VALUES ('/new', 'PUT', 1::bigint, 3::float8)$$,
    'the filters apply to pending events'
);
SELECT results_eq(
    $$SELECT bucket_start, total_executions, failed, total_duration_ms
      FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-02', 'day')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, 2::bigint, 1::bigint, 40::float8)$$,
    'operation summaries add pending operation events'
);

CREATE TEMP TABLE before_fold AS
SELECT * FROM pgmetrics.route_metrics_summary('2026-02-28', '2026-03-04', 'week');
SELECT pgmetrics.fold_events();
SELECT results_eq(
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-02-28', '2026-03-04', 'week')$$,
    $$SELECT * FROM before_fold$$,
    'a summary is the same before and after the fold'
);

SELECT * FROM finish();
ROLLBACK;
