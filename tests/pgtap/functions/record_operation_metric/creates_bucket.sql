BEGIN;
SELECT plan(3);

SELECT pgmetrics.record_operation_metric('send_email', true, 120.25, '2026-03-01 10:17:03.5+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT results_eq(
    $$SELECT operation, period_start, period_end, total_executions, successful, failed,
             total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at
      FROM pgmetrics.operation_metrics$$,
    $$VALUES ('send_email', '2026-03-01 10:00+00'::timestamptz, '2026-03-01 11:00+00'::timestamptz,
              1::bigint, 1::bigint, 0::bigint, 120.25::float8, 120.25::float8, 120.25::float8,
              '2026-03-01 10:17:03.5+00'::timestamptz)$$,
    'the first execution creates its UTC hour bucket'
);

SELECT pgmetrics.record_operation_metric('db.query', false, 3);
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT results_eq(
    $$SELECT period_start, failed FROM pgmetrics.operation_metrics WHERE operation = 'db.query'$$,
    $$VALUES (date_trunc('hour', now(), 'UTC'), 1::bigint)$$,
    'without at the execution lands in the current UTC hour'
);

SET LOCAL search_path = pgmetrics, public;
SELECT record_operation_metric('bare', true, 3);
RESET search_path;
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT is((SELECT total_executions FROM pgmetrics.operation_metrics WHERE operation = 'bare'), 1::bigint,
    'the bare function name works with pgmetrics on the search_path');

SELECT * FROM finish();
ROLLBACK;
