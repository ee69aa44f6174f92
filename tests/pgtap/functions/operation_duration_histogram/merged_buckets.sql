BEGIN;
SELECT plan(5);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.record_operation_metric('send_email', true, v, '2026-03-01 00:00+00'::timestamptz + v * INTERVAL '20 minutes')
FROM generate_series(1, 100) AS v;
SELECT pgmetrics.record_operation_metric('resize', false, 0, '2026-03-01 05:00+00');

SELECT is(
    (SELECT sum(count) FROM pgmetrics.operation_duration_histogram('2026-03-01', '2026-03-03')),
    (SELECT sum(total_executions) FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-03', 'all')),
    'the counts add up to the executions operation_metrics_summary counts over the range'
);
SELECT results_eq(
    $$SELECT lower_ms, upper_ms, count FROM pgmetrics.operation_duration_histogram('2026-03-01', '2026-03-03') LIMIT 1$$,
    $$VALUES (0::float8, 0::float8, 1::bigint)$$,
    'the zero durations come first, as the bucket [0, 0]'
);
SELECT is(
    (SELECT sum(count) FROM pgmetrics.operation_duration_histogram('2026-03-01', '2026-03-03', 'send_email')),
    100::numeric,
    'operation filters'
);
CREATE TEMP TABLE pending AS SELECT * FROM pgmetrics.operation_duration_histogram('2026-03-01', '2026-03-03');
SELECT pgmetrics.fold_events();
SELECT results_eq(
    $$SELECT * FROM pgmetrics.operation_duration_histogram('2026-03-01', '2026-03-03')$$,
    $$SELECT * FROM pending$$,
    'pending events and folded rows give the same buckets'
);
SELECT throws_ok($$SELECT * FROM pgmetrics.operation_duration_histogram('2026-03-02', '2026-03-01')$$, '22023', NULL,
    'start after end is refused');

SELECT * FROM finish();
ROLLBACK;
