BEGIN;
SELECT plan(8);

SET LOCAL timezone = 'UTC';
SELECT is(pgmetrics.operation_duration_quantile(0.5, '2026-03-01', '2026-03-03'), NULL,
    'nothing recorded: no quantile');

-- 1..100 ms of send_email over two days, and one 1000 ms resize.
SELECT pgmetrics.record_operation_metric('send_email', true, v, '2026-03-01 00:00+00'::timestamptz + v * INTERVAL '20 minutes')
FROM generate_series(1, 100) AS v;
SELECT pgmetrics.record_operation_metric('resize', false, 1000, '2026-03-02 12:00+00');

SELECT is(pgmetrics.operation_duration_quantile(0, '2026-03-01', '2026-03-03'), 1::float8,
    'q = 0 is the exact minimum');
SELECT is(pgmetrics.operation_duration_quantile(1, '2026-03-01', '2026-03-03'), 1000::float8,
    'q = 1 is the exact maximum, every operation together');
SELECT ok(abs(pgmetrics.operation_duration_quantile(0.5, '2026-03-01', '2026-03-03', 'send_email') - 50) / 50 <= 0.01,
    'the median of 1..100 is 50 within 1 %');
SELECT is(pgmetrics.operation_duration_quantile(1, '2026-03-01', '2026-03-03', 'nothing'), NULL,
    'an operation without data: no quantile');
SELECT is(pgmetrics.operation_duration_quantile(1, '2026-03-01', '2026-03-02 12:00'), 100::float8,
    'the end is excluded: the execution at 12:00 on the second day is outside');

CREATE TEMP TABLE pending AS
SELECT q, pgmetrics.operation_duration_quantile(q, '2026-03-01', '2026-03-03') AS value
FROM unnest(ARRAY[0, 0.25, 0.5, 0.9, 0.99, 1]::float8[]) AS q;
SELECT pgmetrics.fold_events();
SELECT results_eq(
    $$SELECT q, pgmetrics.operation_duration_quantile(q, '2026-03-01', '2026-03-03') FROM pending ORDER BY q$$,
    $$SELECT q, value FROM pending ORDER BY q$$,
    'pending events and folded rows give the same quantiles'
);
SELECT is(
    pgmetrics.operation_duration_quantile(0.95, '2026-03-01', '2026-03-03', 'send_email'),
    (SELECT p95_duration_ms FROM pgmetrics.operation_metrics_summary('2026-03-01', '2026-03-03', 'all', 'send_email')),
    'one operation over the range: the p95 of operation_metrics_summary with bucket all'
);

SELECT * FROM finish();
ROLLBACK;
