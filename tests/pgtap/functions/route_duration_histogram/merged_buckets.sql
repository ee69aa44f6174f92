BEGIN;
SELECT plan(9);

SET LOCAL timezone = 'UTC';
SELECT is_empty($$SELECT * FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03')$$,
    'nothing recorded: no buckets');

-- 1..100 ms on /a GET over two days, a 0 ms request on /a GET and 1000 ms on /b POST.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, v, '2026-03-01 00:00+00'::timestamptz + v * INTERVAL '20 minutes')
FROM generate_series(1, 100) AS v;
SELECT pgmetrics.record_route_metric('/a', 'GET', false, 0, '2026-03-01 05:00+00');
SELECT pgmetrics.record_route_metric('/b', 'POST', true, 1000, '2026-03-02 12:00+00');

SELECT is(
    (SELECT sum(count) FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03')),
    (SELECT sum(total_requests) FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03', 'all')),
    'the counts add up to the requests route_metrics_summary counts over the range'
);
SELECT results_eq(
    $$SELECT lower_ms, upper_ms, count FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03') LIMIT 1$$,
    $$VALUES (0::float8, 0::float8, 1::bigint)$$,
    'the zero durations come first, as the bucket [0, 0]'
);
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03')
     WHERE lower_ms > 0 AND abs(upper_ms / lower_ms - exp(0.020000666706669435)) > 1e-9),
    0::bigint,
    'every other bucket spans one 1 % step: upper_ms / lower_ms is the growth factor'
);
SELECT is(
    (SELECT count FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03')
     WHERE lower_ms < 1000 AND 1000 <= upper_ms),
    1::bigint,
    'the 1000 ms request is in the bucket whose bounds hold 1000'
);
SELECT is(
    (SELECT sum(count) FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03', '/a', 'get')),
    101::numeric,
    'route and method (any case) filter'
);
SELECT is(
    (SELECT sum(count) FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-01 12:00')),
    36::numeric,
    'the end is excluded: the 35 requests before 12:00 and the zero one, not the one at 12:00'
);

-- The same buckets once the events are folded into the hourly tier and the day rollups.
CREATE TEMP TABLE pending AS SELECT * FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03');
SELECT pgmetrics.fold_events();
SELECT results_eq(
    $$SELECT * FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-03')$$,
    $$SELECT * FROM pending$$,
    'pending events and folded rows give the same buckets'
);
SELECT is(
    (SELECT sum(count) FROM pgmetrics.route_duration_histogram('2026-03-01 01:00', '2026-03-02')),
    (SELECT sum(total_requests) FROM pgmetrics.route_metrics_summary('2026-03-01 01:00', '2026-03-02', 'all')),
    'a range of hours and folded rows: still the counts of route_metrics_summary'
);

SELECT * FROM finish();
ROLLBACK;
