BEGIN;
SELECT plan(6);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 10, '2026-03-01 23:10+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', false, 30, '2026-03-01 23:50+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 2, '2026-03-02 00:05+00');
SELECT pgmetrics.record_route_metric('/a', 'POST', true, 4, '2026-03-09 12:00+00');
SELECT pgmetrics.record_route_metric('/b', 'GET', true, 1, '2026-03-02 10:00+00');

SELECT results_eq(
    $$SELECT bucket_start, route, method, total_requests, successful, failed, error_rate, total_duration_ms,
             average_duration_ms, min_duration_ms, max_duration_ms,
             -- Bucket values are within 1 % of the durations, and clamped to the minimum and maximum.
             round(p50_duration_ms::numeric, 3)::float8, round(p95_duration_ms::numeric, 3)::float8,
             round(p99_duration_ms::numeric, 3)::float8, last_request_at
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03')$$,
    $$VALUES ('2026-03-01 23:00+00'::timestamptz, '/a', 'GET', 2::bigint, 1::bigint, 1::bigint, 0.5::float8,
              40::float8, 20::float8, 10::float8, 30::float8, 10.075::float8, 30::float8, 30::float8,
              '2026-03-01 23:50+00'::timestamptz),
             ('2026-03-02 00:00+00', '/a', 'GET', 1, 1, 0, 0, 2, 2, 2, 2, 2, 2, 2, '2026-03-02 00:05+00'),
             ('2026-03-02 10:00+00', '/b', 'GET', 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, '2026-03-02 10:00+00')$$,
    'hour (the default): one row per UTC hour and key with every column'
);
SELECT results_eq(
    $$SELECT bucket_start, route, method, total_requests, failed, min_duration_ms, max_duration_ms, last_request_at
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-10', 'day')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, '/a', 'GET', 2::bigint, 1::bigint, 10::float8, 30::float8,
              '2026-03-01 23:50+00'::timestamptz),
             ('2026-03-02 00:00+00', '/a', 'GET', 1, 0, 2, 2, '2026-03-02 00:05+00'),
             ('2026-03-02 00:00+00', '/b', 'GET', 1, 0, 1, 1, '2026-03-02 10:00+00'),
             ('2026-03-09 00:00+00', '/a', 'POST', 1, 0, 4, 4, '2026-03-09 12:00+00')$$,
    'day: UTC days by default, ordered by bucket_start, route, method'
);
SELECT results_eq(
    $$SELECT bucket_start, route, method, total_requests
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-10', 'week')$$,
    $$VALUES ('2026-02-23 00:00+00'::timestamptz, '/a', 'GET', 2::bigint),
             ('2026-03-02 00:00+00', '/a', 'GET', 1),
             ('2026-03-02 00:00+00', '/b', 'GET', 1),
             ('2026-03-09 00:00+00', '/a', 'POST', 1)$$,
    'week: ISO weeks starting on Monday (2026-03-01 is a Sunday, 2026-03-02 a Monday)'
);
SELECT results_eq(
    $$SELECT bucket_start, route, method, total_requests, error_rate, average_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-01 06:00', '2026-03-10', 'all')$$,
    $$VALUES ('2026-03-01 06:00+00'::timestamptz, '/a', 'GET', 3::bigint, 1 / 3::float8, 14::float8),
             ('2026-03-01 06:00+00', '/a', 'POST', 1, 0, 4),
             ('2026-03-01 06:00+00', '/b', 'GET', 1, 0, 1)$$,
    'all: one row per key over the whole range, bucket_start = start'
);
SELECT results_eq(
    $$SELECT bucket_start, route, method, total_requests
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-10', 'day', route => '/a', method => 'get')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, '/a', 'GET', 2::bigint),
             ('2026-03-02 00:00+00', '/a', 'GET', 1)$$,
    'route and method filter, the method in any case'
);
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-10', 'all', route => '/nowhere')),
    0::bigint,
    'an unknown route gives no rows'
);

SELECT * FROM finish();
ROLLBACK;
