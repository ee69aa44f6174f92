BEGIN;
SELECT plan(14);

SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary(NULL, '2026-03-02')$$,
    '22004', 'start must not be NULL', 'a NULL start is rejected');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', NULL)$$,
    '22004', 'end must not be NULL', 'a NULL end is rejected');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('-infinity', '2026-03-02')$$,
    '22023', 'start must be a finite timestamp, got -infinity', 'an infinite start is rejected');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', 'infinity')$$,
    '22023', 'end must be a finite timestamp, got infinity', 'an infinite end is rejected');
SET LOCAL timezone = 'UTC';
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-02', '2026-03-01')$$,
    '22023', 'start must not be after end, got start 2026-03-02 00:00:00+00 and end 2026-03-01 00:00:00+00',
    'start after end is rejected');
SELECT lives_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-01')$$,
    'start equal to end is an empty range, not an error');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', 'minute')$$,
    '22023', 'bucket must be one of hour day week month all, got ''minute''', 'an unknown bucket is rejected');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', 'DAY')$$,
    '22023', 'bucket must be one of hour day week month all, got ''DAY''', 'bucket names are lower case');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', NULL)$$,
    '22004', 'bucket must not be NULL', 'a NULL bucket is rejected');
SELECT throws_ok(
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', 'day', tz => 'Mars/Olympus_Mons')$$,
    '22023', 'tz must be a time zone name such as UTC or Europe/Berlin, got ''Mars/Olympus_Mons''',
    'an unknown time zone is rejected'
);
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', 'day', tz => NULL)$$,
    '22004', 'tz must not be NULL', 'a NULL time zone is rejected');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', method => 'FETCH')$$,
    '22023', 'method must be one of GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT _OTHER, got ''FETCH''',
    'an unknown method filter is rejected');
SELECT lives_ok(
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', 'hour', NULL, NULL, 'Asia/Kolkata')$$,
    'every argument can be passed by position'
);
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-01', 'all')),
    0::bigint,
    'an empty range returns no rows, even for bucket all'
);

SELECT * FROM finish();
ROLLBACK;
