BEGIN;
SELECT plan(3);

SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 10, '2026-03-01 10:05+00');
SELECT pgmetrics.record_route_metric('/users/{id}', 'get', false, 30, '2026-03-01 10:45+00');
SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 2, '2026-03-01 10:20+00');
SELECT pgmetrics.record_route_metric('/users/{id}', 'POST', true, 7, '2026-03-01 10:20+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT results_eq(
    $$SELECT total_requests, successful, failed, total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
      FROM pgmetrics.route_metrics WHERE method = 'GET'$$,
    $$VALUES (3::bigint, 2::bigint, 1::bigint, 42::float8, 2::float8, 30::float8, '2026-03-01 10:45+00'::timestamptz)$$,
    'later requests add to the bucket; min, max and the latest time are kept'
);
SELECT is((SELECT count(*) FROM pgmetrics.route_metrics), 2::bigint, 'one row per route, method and hour');
SELECT ok(
    (SELECT updated_at >= created_at FROM pgmetrics.route_metrics WHERE method = 'GET'),
    'updated_at moves with each upsert'
);

SELECT * FROM finish();
ROLLBACK;
