BEGIN;
SELECT plan(4);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 0, '2026-03-01 04:59:59+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 1, '2026-03-01 09:59:59+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 2, '2026-03-01 10:00+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 3, '2026-03-01 11:30+00');
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 4, '2026-03-02 00:00+00');

SELECT results_eq(
    $$SELECT bucket_start, total_requests FROM pgmetrics.route_metrics_summary('2026-03-01 10:00', '2026-03-01 12:00')$$,
    $$VALUES ('2026-03-01 10:00+00'::timestamptz, 1::bigint), ('2026-03-01 11:00+00', 1)$$,
    'start is inclusive and end exclusive'
);
SELECT results_eq(
    $$SELECT total_requests FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-02', 'all')$$,
    $$VALUES (4::bigint)$$,
    'a day range ends before the next midnight'
);
SELECT results_eq(
    $$SELECT bucket_start, total_requests
      FROM pgmetrics.route_metrics_summary('2026-03-01 10:30', '2026-03-01 11:30')$$,
    $$VALUES ('2026-03-01 11:00+00'::timestamptz, 1::bigint)$$,
    'an hourly row counts when its hour starts inside the range'
);
SELECT results_eq(
    $$SELECT bucket_start, total_requests
      FROM pgmetrics.route_metrics_summary('2026-03-01 05:00', '2026-03-02 01:00', 'day')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, 3::bigint), ('2026-03-02 00:00+00', 1)$$,
    'a day bucket cut by the range counts only the hours inside it'
);

SELECT * FROM finish();
ROLLBACK;
