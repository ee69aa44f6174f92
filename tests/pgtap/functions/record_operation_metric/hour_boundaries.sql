BEGIN;
SELECT plan(1);

SELECT pgmetrics.record_operation_metric('edge', true, 1, '2026-03-01 10:59:59.999+00');
SELECT pgmetrics.record_operation_metric('edge', true, 2, '2026-03-01 11:00:00+00');
SELECT pgmetrics.record_operation_metric('edge', true, 3, '2026-03-01 11:59:59.999999+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT results_eq(
    $$SELECT period_start, total_executions FROM pgmetrics.operation_metrics ORDER BY period_start$$,
    $$VALUES ('2026-03-01 10:00+00'::timestamptz, 1::bigint), ('2026-03-01 11:00+00'::timestamptz, 2::bigint)$$,
    ':59:59.999 belongs to its hour and :00 starts the next'
);

SELECT * FROM finish();
ROLLBACK;
