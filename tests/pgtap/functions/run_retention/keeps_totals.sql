BEGIN;
SELECT plan(4);

-- Rows on both sides of the detail cutoff of now = 2026-06-01 12:00 (2026-03-03 00:00).
SELECT pgmetrics.record_route_metric('/r', 'GET', d % 3 <> 0, d * 1.5, t)
FROM generate_series(1, 120) AS d,
     LATERAL (SELECT '2026-06-01 08:00+00'::timestamptz - d * interval '1 day' + (d % 7) * interval '1 hour') AS x(t);
SELECT pgmetrics.record_operation_metric('op', d % 5 <> 0, d * 0.25, '2026-06-01 09:00+00'::timestamptz - d * interval '1 day')
FROM generate_series(1, 120) AS d;

CREATE TEMP TABLE before_all AS
SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2026-07-01', 'all');
CREATE TEMP TABLE before_days AS
SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2026-07-01', 'day');
CREATE TEMP TABLE before_ops AS
SELECT * FROM pgmetrics.operation_metrics_summary('2026-01-01', '2026-07-01', 'week');

SELECT ok(
    (pgmetrics.run_retention('2026-06-01 12:00+00')->>'route_hours_expired')::int > 0,
    'the run expired hourly detail'
);
SELECT results_eq(
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2026-07-01', 'all')$$,
    $$SELECT * FROM before_all$$,
    'the total over a range crossing the cutoff is unchanged'
);
SELECT results_eq(
    $$SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2026-07-01', 'day')$$,
    $$SELECT * FROM before_days$$,
    'every UTC day is unchanged'
);
SELECT results_eq(
    $$SELECT * FROM pgmetrics.operation_metrics_summary('2026-01-01', '2026-07-01', 'week')$$,
    $$SELECT * FROM before_ops$$,
    'every week of operations is unchanged'
);

SELECT * FROM finish();
ROLLBACK;
