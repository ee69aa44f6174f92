BEGIN;
SELECT plan(8);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 10, '2026-03-01 23:10+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', false, 30, '2026-03-01 23:50+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 2, '2026-03-02 00:05+00');
SELECT pgmetrics.record_operation_metric('job', true, 4, '2026-03-01 12:00+00');
SELECT pgmetrics.record_operation_metric('job', false, 6, '2026-03-03 12:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT columns_are('pgmetrics', 'route_metrics_by_day', ARRAY[
    'bucket_start', 'route', 'method', 'total_requests', 'successful', 'failed', 'error_rate', 'total_duration_ms',
    'average_duration_ms', 'min_duration_ms', 'max_duration_ms', 'p50_duration_ms', 'p95_duration_ms',
    'p99_duration_ms', 'last_request_at'
], 'route views have the columns of route_metrics_summary');
SELECT columns_are('pgmetrics', 'operation_metrics_by_week', ARRAY[
    'bucket_start', 'operation', 'total_executions', 'successful', 'failed', 'error_rate', 'total_duration_ms',
    'average_duration_ms', 'min_duration_ms', 'max_duration_ms', 'p50_duration_ms', 'p95_duration_ms',
    'p99_duration_ms', 'last_execution_at'
], 'operation views have the columns of operation_metrics_summary');

SELECT set_eq(
    $$SELECT * FROM pgmetrics.route_metrics_by_hour$$,
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2027-01-01', 'hour')$$,
    'route_metrics_by_hour equals the hourly summary'
);
SELECT set_eq(
    $$SELECT * FROM pgmetrics.route_metrics_by_day$$,
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2027-01-01', 'day')$$,
    'route_metrics_by_day equals the daily summary in UTC'
);
SELECT set_eq(
    $$SELECT * FROM pgmetrics.route_metrics_by_week$$,
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-01-05', '2027-01-04', 'week')$$,
    'route_metrics_by_week equals the weekly summary in UTC'
);
SELECT set_eq(
    $$SELECT * FROM pgmetrics.operation_metrics_by_hour$$,
    $$SELECT * FROM pgmetrics.operation_metrics_summary('2026-01-01', '2027-01-01', 'hour')$$,
    'operation_metrics_by_hour equals the hourly summary'
);
SELECT set_eq(
    $$SELECT * FROM pgmetrics.operation_metrics_by_day$$,
    $$SELECT * FROM pgmetrics.operation_metrics_summary('2026-01-01', '2027-01-01', 'day')$$,
    'operation_metrics_by_day equals the daily summary in UTC'
);
SELECT results_eq(
    $$SELECT bucket_start, total_executions, error_rate FROM pgmetrics.operation_metrics_by_week
      WHERE bucket_start >= '2026-02-01' AND bucket_start < '2026-04-01' ORDER BY bucket_start$$,
    $$VALUES ('2026-02-23 00:00+00'::timestamptz, 1::bigint, 0::float8), ('2026-03-02 00:00+00', 1, 1)$$,
    'operation_metrics_by_week: ISO weeks from Monday, filtered on bucket_start as a dashboard does'
);

SELECT * FROM finish();
ROLLBACK;
