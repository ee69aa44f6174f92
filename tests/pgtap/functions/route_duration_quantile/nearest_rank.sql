BEGIN;
SELECT plan(11);

SET LOCAL timezone = 'UTC';
SELECT is(pgmetrics.route_duration_quantile(0.5, '2026-03-01', '2026-03-03'), NULL,
    'nothing recorded: no quantile');

-- 1..100 ms on /a GET over two days, then 1000 ms on /b POST and 0 ms on /a GET.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, v, '2026-03-01 00:00+00'::timestamptz + v * INTERVAL '20 minutes')
FROM generate_series(1, 100) AS v;
SELECT pgmetrics.record_route_metric('/b', 'POST', true, 1000, '2026-03-02 12:00+00');

SELECT is(pgmetrics.route_duration_quantile(0, '2026-03-01', '2026-03-03'), 1::float8,
    'q = 0 is the exact minimum');
SELECT is(pgmetrics.route_duration_quantile(1, '2026-03-01', '2026-03-03'), 1000::float8,
    'q = 1 is the exact maximum, every route together');
SELECT ok(abs(pgmetrics.route_duration_quantile(0.5, '2026-03-01', '2026-03-03', '/a') - 50) / 50 <= 0.01,
    'the median of 1..100 is 50 within 1 %');
SELECT ok(abs(pgmetrics.route_duration_quantile(0.99, '2026-03-01', '2026-03-03', '/a', 'get') - 99) / 99 <= 0.01,
    'p99 of one route and method (any case) is 99 within 1 %');
SELECT is(pgmetrics.route_duration_quantile(1, '2026-03-01', '2026-03-03', '/a', 'POST'), NULL,
    'a method without data: no quantile');
SELECT is(pgmetrics.route_duration_quantile(1, '2026-03-01', '2026-03-02 12:00'), 100::float8,
    'the end is excluded: the request at 12:00 on the second day is outside');

-- The same answer once the events are folded into the hourly tier and the day rollups.
CREATE TEMP TABLE pending AS
SELECT q, pgmetrics.route_duration_quantile(q, '2026-03-01', '2026-03-03') AS value
FROM unnest(ARRAY[0, 0.25, 0.5, 0.9, 0.99, 1]::float8[]) AS q;
SELECT pgmetrics.fold_events();
SELECT results_eq(
    $$SELECT q, pgmetrics.route_duration_quantile(q, '2026-03-01', '2026-03-03') FROM pending ORDER BY q$$,
    $$SELECT q, value FROM pending ORDER BY q$$,
    'pending events and folded rows give the same quantiles'
);
SELECT is(
    pgmetrics.route_duration_quantile(0.95, '2026-03-01', '2026-03-03', '/a'),
    (SELECT p95_duration_ms FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03', 'all', '/a')),
    'one key over the range: the p95 of route_metrics_summary with bucket all'
);

-- Zeros rank first.
SELECT pgmetrics.record_route_metric('/z', 'GET', true, 0, '2026-03-01 10:00+00') FROM generate_series(1, 3);
SELECT pgmetrics.record_route_metric('/z', 'GET', true, 8, '2026-03-01 10:00+00');
SELECT is(pgmetrics.route_duration_quantile(0.75, '2026-03-01', '2026-03-02', '/z'), 0::float8,
    'three zeros of four: p75 is 0');
SELECT ok(abs(pgmetrics.route_duration_quantile(0.76, '2026-03-01', '2026-03-02', '/z') - 8) / 8 <= 0.01,
    'above the zeros: the one other duration, within 1 %');

SELECT * FROM finish();
ROLLBACK;
