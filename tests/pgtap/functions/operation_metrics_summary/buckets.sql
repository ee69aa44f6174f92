BEGIN;
SELECT plan(6);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.record_operation_metric('send_email', true, 10, '2026-03-01 23:10+00');
SELECT pgmetrics.record_operation_metric('send_email', false, 30, '2026-03-01 23:50+00');
SELECT pgmetrics.record_operation_metric('send_email', true, 2, '2026-03-02 00:05+00');
SELECT pgmetrics.record_operation_metric('db.query', true, 4, '2026-03-09 12:00+00');

SELECT results_eq(
    $$SELECT bucket_start, operation, total_executions, successful, failed, error_rate, total_duration_ms,
             average_duration_ms, min_duration_ms, max_duration_ms,
             -- Bucket values are within 1 % of the durations, and clamped to the minimum and maximum.
             round(p50_duration_ms::numeric, 3)::float8, round(p95_duration_ms::numeric, 3)::float8,
             round(p99_duration_ms::numeric, 3)::float8, last_execution_at
      FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-03')$$,
    $$VALUES ('2026-03-01 23:00+00'::timestamptz, 'send_email', 2::bigint, 1::bigint, 1::bigint, 0.5::float8,
              40::float8, 20::float8, 10::float8, 30::float8, 10.075::float8, 30::float8, 30::float8,
              '2026-03-01 23:50+00'::timestamptz),
             ('2026-03-02 00:00+00', 'send_email', 1, 1, 0, 0, 2, 2, 2, 2, 2, 2, 2, '2026-03-02 00:05+00')$$,
    'hour (the default): one row per UTC hour and operation with every column'
);
SELECT results_eq(
    $$SELECT bucket_start, operation, total_executions, last_execution_at
      FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-10', 'day')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, 'send_email', 2::bigint, '2026-03-01 23:50+00'::timestamptz),
             ('2026-03-02 00:00+00', 'send_email', 1, '2026-03-02 00:05+00'),
             ('2026-03-09 00:00+00', 'db.query', 1, '2026-03-09 12:00+00')$$,
    'day: UTC days, ordered by bucket_start then operation'
);
SELECT results_eq(
    $$SELECT bucket_start, operation, total_executions
      FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-10', 'week')$$,
    $$VALUES ('2026-02-23 00:00+00'::timestamptz, 'send_email', 2::bigint),
             ('2026-03-02 00:00+00', 'send_email', 1),
             ('2026-03-09 00:00+00', 'db.query', 1)$$,
    'week: ISO weeks starting on Monday'
);
SELECT results_eq(
    $$SELECT bucket_start, operation, total_executions, error_rate
      FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-10', 'all')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, 'db.query', 1::bigint, 0::float8),
             ('2026-03-01 00:00+00', 'send_email', 3, 1 / 3::float8)$$,
    'all: one row per operation, bucket_start = start, ordered by operation'
);
SELECT results_eq(
    $$SELECT bucket_start, total_executions
      FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-10', 'day', operation => 'send_email',
                                               tz => 'America/New_York')$$,
    $$VALUES ('2026-03-01 05:00+00'::timestamptz, 3::bigint)$$,
    'operation filter; in New York the three executions share one local day'
);
SELECT results_eq(
    $$SELECT bucket_start, total_executions
      FROM pgmetrics.operation_metrics_summary('2026-03-01 23:00', '2026-03-02 00:00')$$,
    $$VALUES ('2026-03-01 23:00+00'::timestamptz, 2::bigint)$$,
    'start is inclusive and end exclusive'
);

SELECT * FROM finish();
ROLLBACK;
