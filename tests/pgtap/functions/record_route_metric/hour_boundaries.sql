BEGIN;
SELECT plan(3);

SELECT pgmetrics.record_route_metric('/edge', 'GET', true, 1, '2026-03-01 10:59:59.999+00');
SELECT pgmetrics.record_route_metric('/edge', 'GET', true, 2, '2026-03-01 11:00:00+00');
SELECT pgmetrics.record_route_metric('/edge', 'GET', true, 3, '2026-03-01 11:59:59.999999+00');
SELECT pgmetrics.record_route_metric('/edge', 'GET', true, 4, '2026-12-31 23:59:59.999999+00');
SELECT pgmetrics.record_route_metric('/edge', 'GET', true, 5, '2027-01-01 00:00:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT results_eq(
    $$SELECT period_start, total_requests FROM pgmetrics.route_metrics ORDER BY period_start$$,
    $$VALUES ('2026-03-01 10:00+00'::timestamptz, 1::bigint),
             ('2026-03-01 11:00+00'::timestamptz, 2::bigint),
             ('2026-12-31 23:00+00'::timestamptz, 1::bigint),
             ('2027-01-01 00:00+00'::timestamptz, 1::bigint)$$,
    ':59:59.999 belongs to its hour and :00 starts the next, across the year end too'
);
SELECT is((SELECT max_duration_ms FROM pgmetrics.route_metrics WHERE period_start = '2026-03-01 11:00+00'), 3::float8,
    'the last microsecond of an hour still counts in it');
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_metrics WHERE period_end <> period_start + interval '1 hour'),
    0::bigint,
    'every bucket ends one hour after it starts'
);

SELECT * FROM finish();
ROLLBACK;
