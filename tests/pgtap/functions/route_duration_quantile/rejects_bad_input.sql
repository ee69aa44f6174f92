BEGIN;
SELECT plan(9);

SET LOCAL timezone = 'UTC';
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(NULL, '2026-03-01', '2026-03-02')$$,
    '22023', 'q must be between 0 and 1, got NULL', 'a NULL q is rejected');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile('NaN', '2026-03-01', '2026-03-02')$$,
    '22023', 'q must be between 0 and 1, got NaN', 'a NaN q is rejected');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(1.5, '2026-03-01', '2026-03-02')$$,
    '22023', 'q must be between 0 and 1, got 1.5', 'a q above 1 is rejected, over a range without data too');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(-0.5, '2026-03-01', '2026-03-02')$$,
    '22023', 'q must be between 0 and 1, got -0.5', 'a negative q is rejected');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(0.5, NULL, '2026-03-02')$$,
    '22004', 'start must not be NULL', 'a NULL start is rejected');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(0.5, '2026-03-01', NULL)$$,
    '22004', 'end must not be NULL', 'a NULL end is rejected');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(0.5, '-infinity', '2026-03-02')$$,
    '22023', 'start must be a finite timestamp, got -infinity', 'an infinite start is rejected');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(0.5, '2026-03-02', '2026-03-01')$$,
    '22023', 'start must not be after end, got start 2026-03-02 00:00:00+00 and end 2026-03-01 00:00:00+00',
    'start after end is rejected');
SELECT throws_ok($$SELECT pgmetrics.route_duration_quantile(0.5, '2026-03-01', '2026-03-02', NULL, 'FETCH')$$,
    '22023', 'method must be one of GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT _OTHER, got ''FETCH''',
    'an unknown method is rejected');

SELECT * FROM finish();
ROLLBACK;
