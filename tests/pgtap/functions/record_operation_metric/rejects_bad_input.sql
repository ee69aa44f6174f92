BEGIN;
SELECT plan(12);

SELECT pgmetrics.record_operation_metric('kept', true, 1, '2026-03-01 10:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('', true, 1)$$,
    '22023', 'operation must be 1 to 1024 characters long, got 0', 'an empty operation is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric(repeat('x', 1025), true, 1)$$,
    '22023', 'operation must be 1 to 1024 characters long, got 1025', 'an operation over 1024 characters is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric(NULL, true, 1)$$,
    '22004', 'operation must not be NULL', 'a NULL operation is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', NULL, 1)$$,
    '22004', 'success must not be NULL', 'a NULL success is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, NULL)$$,
    '22004', 'duration_ms must not be NULL', 'a NULL duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 'NaN')$$,
    '22023', 'duration_ms must be a finite number >= 0, got NaN', 'a NaN duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 'Infinity')$$,
    '22023', NULL, 'an infinite duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, -5)$$,
    '22023', 'duration_ms must be a finite number >= 0, got -5', 'a negative duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 1, NULL)$$,
    '22004', 'at must not be NULL', 'a NULL time is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 1, '-infinity')$$,
    '22023', 'at must be a finite timestamp, got -infinity', 'an infinite time is rejected');

SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT results_eq(
    $$SELECT operation, total_executions FROM pgmetrics.operation_metrics$$,
    $$VALUES ('kept', 1::bigint)$$,
    'no rejected call wrote anything'
);
SELECT is((SELECT count(*) FROM pgmetrics.operation_metrics), 1::bigint, 'only the valid call stored a row');

SELECT * FROM finish();
ROLLBACK;
