BEGIN;
SELECT plan(2);

SELECT pgmetrics.record_operation_metric('send_email', true, 10, '2026-03-01 10:05+00');
SELECT pgmetrics.record_operation_metric('send_email', false, 30, '2026-03-01 10:45+00');
SELECT pgmetrics.record_operation_metric('send_email', true, 2, '2026-03-01 10:20+00');
SELECT pgmetrics.record_operation_metric('db.query', true, 7, '2026-03-01 10:20+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT results_eq(
    $$SELECT total_executions, successful, failed, total_duration_ms, min_duration_ms, max_duration_ms,
             last_execution_at
      FROM pgmetrics.operation_metrics WHERE operation = 'send_email'$$,
    $$VALUES (3::bigint, 2::bigint, 1::bigint, 42::float8, 2::float8, 30::float8, '2026-03-01 10:45+00'::timestamptz)$$,
    'later executions add to the bucket; min, max and the latest time are kept'
);
SELECT is((SELECT count(*) FROM pgmetrics.operation_metrics), 2::bigint, 'one row per operation and hour');

SELECT * FROM finish();
ROLLBACK;
