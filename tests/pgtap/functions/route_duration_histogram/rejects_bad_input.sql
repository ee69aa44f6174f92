BEGIN;
SELECT plan(4);

SELECT throws_ok($$SELECT * FROM pgmetrics.route_duration_histogram(NULL, '2026-03-02')$$, '22004', NULL,
    'a NULL start is refused');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_duration_histogram('2026-03-02', '2026-03-01')$$, '22023', NULL,
    'start after end is refused');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_duration_histogram('-infinity', '2026-03-01')$$, '22023', NULL,
    'an infinite bound is refused');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-02', '/a', 'FETCH')$$,
    '22023', NULL, 'an unknown method is refused');

SELECT * FROM finish();
ROLLBACK;
