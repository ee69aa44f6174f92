BEGIN;
SELECT plan(5);

SET LOCAL timezone = 'UTC';
-- Around the spring-forward of America/New_York (2026-03-08 02:00 EST becomes 03:00 EDT): that day has 23 hours.
SELECT pgmetrics.record_route_metric('/ny', 'GET', true, 1, '2026-03-08 04:59+00');  -- 23:59 EST on the 7th
SELECT pgmetrics.record_route_metric('/ny', 'GET', true, 2, '2026-03-08 05:00+00');  -- 00:00 EST on the 8th
SELECT pgmetrics.record_route_metric('/ny', 'GET', true, 3, '2026-03-09 03:59+00');  -- 23:59 EDT on the 8th
SELECT pgmetrics.record_route_metric('/ny', 'GET', true, 4, '2026-03-09 04:00+00');  -- 00:00 EDT on the 9th

SELECT results_eq(
    $$SELECT bucket_start, total_requests, min_duration_ms, max_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-07 05:00', '2026-03-10 04:00', 'day', tz => 'America/New_York')$$,
    $$VALUES ('2026-03-07 05:00+00'::timestamptz, 1::bigint, 1::float8, 1::float8),
             ('2026-03-08 05:00+00', 2, 2, 3),
             ('2026-03-09 04:00+00', 1, 4, 4)$$,
    'New York days start at local midnight; the spring-forward day has 23 hours'
);

-- Europe/Berlin falls back on 2026-10-25 (03:00 CEST becomes 02:00 CET): that day has 25 hours.
SELECT pgmetrics.record_route_metric('/be', 'GET', true, 1, '2026-10-24 22:00+00');  -- 00:00 CEST on the 25th
SELECT pgmetrics.record_route_metric('/be', 'GET', true, 2, '2026-10-25 22:59+00');  -- 23:59 CET on the 25th
SELECT pgmetrics.record_route_metric('/be', 'GET', true, 3, '2026-10-25 23:00+00');  -- 00:00 CET on the 26th
SELECT results_eq(
    $$SELECT bucket_start, total_requests
      FROM pgmetrics.route_metrics_summary('2026-10-24', '2026-10-27', 'day', route => '/be', tz => 'Europe/Berlin')$$,
    $$VALUES ('2026-10-24 22:00+00'::timestamptz, 2::bigint), ('2026-10-25 23:00+00', 1)$$,
    'the Berlin fall-back day has 25 hours'
);
SELECT results_eq(
    $$SELECT bucket_start, total_requests
      FROM pgmetrics.route_metrics_summary('2026-10-01', '2026-11-01', 'week', route => '/be', tz => 'Europe/Berlin')$$,
    $$VALUES ('2026-10-18 22:00+00'::timestamptz, 2::bigint), ('2026-10-25 23:00+00', 1)$$,
    'Berlin weeks start on Monday at local midnight, whatever the offset that day'
);

-- Asia/Kolkata is UTC+05:30: local midnight is 18:30 UTC, inside the UTC hour 18:00.
SELECT pgmetrics.record_route_metric('/in', 'GET', true, 1, '2026-03-01 18:10+00');  -- 23:40 IST on the 1st
SELECT pgmetrics.record_route_metric('/in', 'GET', true, 2, '2026-03-01 18:40+00');  -- 00:10 IST on the 2nd
SELECT pgmetrics.record_route_metric('/in', 'GET', true, 3, '2026-03-01 19:00+00');  -- 00:30 IST on the 2nd
SELECT results_eq(
    $$SELECT bucket_start, total_requests, max_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03', 'day', route => '/in', tz => 'Asia/Kolkata')$$,
    $$VALUES ('2026-02-28 18:30+00'::timestamptz, 2::bigint, 2::float8), ('2026-03-01 18:30+00', 1, 3)$$,
    'Kolkata: the UTC hour 18:00 starts at 23:30 IST, so it counts in the local day that contains its start'
);
SELECT results_eq(
    $$SELECT bucket_start, total_requests
      FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-03', 'hour', route => '/in', tz => 'Asia/Kolkata')$$,
    $$VALUES ('2026-03-01 18:00+00'::timestamptz, 2::bigint), ('2026-03-01 19:00+00', 1)$$,
    'hour buckets are the UTC hours whatever the time zone'
);

SELECT * FROM finish();
ROLLBACK;
