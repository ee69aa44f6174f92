BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(10);

-- Days far from the clock, so that the test does not depend on the day it runs: their partitions are made here.
SELECT pgmetrics._add_detail_partitions('{2026-03-01, 2026-03-02, 2026-03-03}'::timestamptz []);
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1, '2026-02-15 10:00+00');  -- no partition: default
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 2, '2026-03-01 10:00+00');
SELECT pgmetrics.record_route_metric('/r', 'GET', false, 3, '2026-03-02 23:59:59+00');
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 4, '2026-03-03 00:00+00');
SELECT pgmetrics.record_operation_metric('op', true, 5, '2026-03-02 10:00+00');
SELECT pgmetrics.record_operation_metric('op', true, 6, '2026-03-03 10:00+00');
SELECT pgmetrics.fold_events();

SELECT results_eq(
    $$SELECT tableoid::regclass::text, period_start FROM pgmetrics.route_metrics ORDER BY 2$$,
    $$VALUES ('pgmetrics.route_metrics_default', '2026-02-15 10:00+00'::timestamptz),
             ('pgmetrics.route_metrics_p20260301', '2026-03-01 10:00+00'),
             ('pgmetrics.route_metrics_p20260302', '2026-03-02 23:00+00'),
             ('pgmetrics.route_metrics_p20260303', '2026-03-03 00:00+00')$$,
    'each hour lies in the partition of its UTC day, an hour of a day without one in the default partition'
);

CREATE TEMPORARY TABLE days_before AS
SELECT * FROM pgmetrics.route_metrics_summary('2026-02-01', '2026-04-01', 'day');

-- now = 2026-06-01 12:00 UTC: detail before 2026-03-03 00:00 expires.
CREATE TEMPORARY TABLE run AS SELECT pgmetrics.run_retention('2026-06-01 12:00+00') AS result;

SELECT is((SELECT (result ->> 'detail_partitions_dropped')::int FROM run), 4,
    'the days before the cutoff are dropped as partitions, two of each table');
SELECT is((SELECT (result ->> 'route_hours_expired')::int FROM run), 3,
    'the route hours expired count the rows of the dropped partitions and those deleted from the default one');
SELECT is((SELECT (result ->> 'operation_hours_expired')::int FROM run), 1, 'and the operation hours');
SELECT ok(
    to_regclass('pgmetrics.route_metrics_p20260301') IS NULL AND to_regclass('pgmetrics.route_metrics_p20260302') IS NULL
    AND to_regclass('pgmetrics.operation_metrics_p20260302') IS NULL,
    'the expired partitions are gone'
);
SELECT ok(to_regclass('pgmetrics.route_metrics_p20260303') IS NOT NULL, 'the partition of the cutoff day stays');
SELECT results_eq(
    $$SELECT period_start FROM pgmetrics.route_metrics ORDER BY 1$$,
    $$VALUES ('2026-03-03 00:00+00'::timestamptz)$$,
    'the detail kept starts exactly at the cutoff'
);
SELECT results_eq(
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-02-01', '2026-04-01', 'day')$$,
    $$SELECT * FROM days_before$$,
    'the daily summaries over the dropped days are unchanged: the rollups hold them'
);

-- A partition the cutoff cuts through (one not made by pgmetrics, spanning days) keeps its rows from the cutoff on.
CREATE TABLE pgmetrics.route_metrics_spring PARTITION OF pgmetrics.route_metrics
FOR VALUES FROM ('2026-03-20') TO ('2026-03-25');
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 7, '2026-03-21 23:00+00');
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 8, '2026-03-22 00:00+00');
SELECT pgmetrics.fold_events();
-- now = 2026-06-20 12:00 UTC: the cutoff is 2026-03-22 00:00.
SELECT is(
    (pgmetrics.run_retention('2026-06-20 12:00+00') ->> 'route_hours_expired')::int, 2,
    'the hour before the cutoff is deleted from the partition straddling it, with the 2026-03-03 partition'
);
SELECT results_eq(
    $$SELECT tableoid::regclass::text, period_start FROM pgmetrics.route_metrics ORDER BY 2$$,
    $$VALUES ('pgmetrics.route_metrics_spring', '2026-03-22 00:00+00'::timestamptz)$$,
    'the straddling partition keeps the hour from the cutoff on'
);

SELECT * FROM finish();
ROLLBACK;
