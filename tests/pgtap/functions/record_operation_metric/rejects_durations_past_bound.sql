BEGIN;
SELECT plan(7);

-- Two durations near the largest double once made every fold and every all-key summary overflow.
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 1.79e308, '2026-03-01 10:05:00+00')$$,
    '22003', 'duration_ms must be at most 1e15 (about 31,700 years), got 1.79e+308',
    'a duration near the largest double is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 1e308, '2026-03-01 10:05:00+00')$$,
    '22003', NULL, 'so is 1e308');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 1.0000000001e15, '2026-03-01 10:05:00+00')$$,
    '22003', NULL, 'and anything above 1e15');
SELECT is((SELECT count(*) FROM pgmetrics.operation_events), 0::bigint, 'a rejected duration writes nothing');

SELECT lives_ok(
    $$SELECT pgmetrics.record_operation_metric('op', true, 1e15, '2026-03-01 10:05:00+00') FROM generate_series(1, 100)$$,
    'the bound itself is accepted, many times on one key and hour'
);
SELECT lives_ok($$SELECT pgmetrics.fold_events()$$, 'and folds');
SELECT is(
    (SELECT total_duration_ms FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-02', 'all')),
    1e17::float8,
    'the sum is finite in a summary over every key'
);

SELECT * FROM finish();
ROLLBACK;
