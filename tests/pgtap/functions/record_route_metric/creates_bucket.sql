BEGIN;
SELECT plan(5);

SELECT pgmetrics.record_route_metric('/users/{id}', 'get', true, 12.5, '2026-03-01 10:17:03.5+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on

SELECT results_eq(
    $$SELECT route, method, period_start, period_end, total_requests, successful, failed,
             total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
      FROM pgmetrics.route_metrics$$,
    $$VALUES ('/users/{id}', 'GET', '2026-03-01 10:00+00'::timestamptz, '2026-03-01 11:00+00'::timestamptz,
              1::bigint, 1::bigint, 0::bigint, 12.5::float8, 12.5::float8, 12.5::float8,
              '2026-03-01 10:17:03.5+00'::timestamptz)$$,
    'the first request creates its UTC hour bucket with the method in upper case'
);

SELECT pgmetrics.record_route_metric('/orders', 'Post', false, 0, '2026-03-01 10:59:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT results_eq(
    $$SELECT method, successful, failed, min_duration_ms FROM pgmetrics.route_metrics WHERE route = '/orders'$$,
    $$VALUES ('POST', 0::bigint, 1::bigint, 0::float8)$$,
    'a failure with a zero duration is its own key'
);

-- The default time is now(): the bucket is the current hour.
SELECT pgmetrics.record_route_metric('/now', 'DELETE', true, 1);
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT is(
    (SELECT period_start FROM pgmetrics.route_metrics WHERE route = '/now'),
    date_trunc('hour', now(), 'UTC'),
    'without at the request lands in the current UTC hour'
);

-- The time zone of the session does not move the bucket.
SET LOCAL timezone = 'Asia/Kolkata';
SELECT pgmetrics.record_route_metric('/tz', 'GET', true, 1, '2026-03-01 15:45:00+05:30');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT is(
    (SELECT period_start FROM pgmetrics.route_metrics WHERE route = '/tz'),
    '2026-03-01 10:00+00'::timestamptz,
    'buckets are UTC hours whatever the session time zone'
);

-- With pgmetrics on the search_path the bare name works.
SET LOCAL search_path = pgmetrics, public;
SELECT record_route_metric('/bare', 'GET', true, 3);
RESET search_path;
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
SELECT is((SELECT total_requests FROM pgmetrics.route_metrics WHERE route = '/bare'), 1::bigint,
    'the bare function name works with pgmetrics on the search_path');

SELECT * FROM finish();
ROLLBACK;
