BEGIN;
SELECT plan(17);

SELECT pgmetrics.record_route_metric('/kept', 'GET', true, 1, '2026-03-01 10:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT throws_ok($$SELECT pgmetrics.record_route_metric('', 'GET', true, 1)$$,
    '22023', 'route must be 1 to 1024 characters long, got 0', 'an empty route is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric(repeat('x', 1025), 'GET', true, 1)$$,
    '22023', 'route must be 1 to 1024 characters long, got 1025', 'a route over 1024 characters is rejected');
SELECT lives_ok($$SELECT pgmetrics.record_route_metric(repeat('é', 1024), 'GET', true, 1)$$,
    'a route of 1024 characters (not bytes) is accepted');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric(NULL, 'GET', true, 1)$$,
    '22004', 'route must not be NULL', 'a NULL route is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'FETCH', true, 1)$$,
    '22023', 'method must be one of GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT _OTHER, got ''FETCH''',
    'an unknown method is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', ' GET', true, 1)$$,
    '22023', NULL, 'a method with spaces is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', NULL, true, 1)$$,
    '22004', 'method must not be NULL', 'a NULL method is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', NULL, 1)$$,
    '22004', 'success must not be NULL', 'a NULL success is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, NULL)$$,
    '22004', 'duration_ms must not be NULL', 'a NULL duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, 'NaN')$$,
    '22023', 'duration_ms must be a finite number >= 0, got NaN', 'a NaN duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, 'Infinity')$$,
    '22023', 'duration_ms must be a finite number >= 0, got Infinity', 'an infinite duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, '-Infinity')$$,
    '22023', NULL, 'a duration of minus infinity is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, -0.001)$$,
    '22023', 'duration_ms must be a finite number >= 0, got -0.001', 'a negative duration is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, 1, NULL)$$,
    '22004', 'at must not be NULL', 'a NULL time is rejected');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, 1, 'infinity')$$,
    '22023', 'at must be a finite timestamp, got infinity', 'an infinite time is rejected');

SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT results_eq(
    $$SELECT route, total_requests FROM pgmetrics.route_metrics WHERE route NOT LIKE 'é%'$$,
    $$VALUES ('/kept', 1::bigint)$$,
    'no rejected call wrote anything'
);
SELECT is((SELECT count(*) FROM pgmetrics.route_metrics), 2::bigint, 'only the two valid calls stored rows');

SELECT * FROM finish();
ROLLBACK;
