BEGIN;
SELECT plan(20);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.add_report_zone('America/New_York');

-- An hour that is over and the hour under way, for one route key and one operation, a histogram of several buckets in
-- each; a second route key only in the hour under way.
SELECT pgmetrics.record_route_metric('/w', 'GET', true, d, date_trunc('hour', now()) - INTERVAL '2 hours')
FROM unnest(ARRAY[10, 11, 250]::float8 []) AS d;
SELECT pgmetrics.record_route_metric('/w', 'GET', d < 100, d, now())
FROM unnest(ARRAY[0, 30, 31, 900]::float8 []) AS d;
SELECT pgmetrics.record_route_metric('/fresh', 'POST', true, 7, now());
SELECT pgmetrics.record_operation_metric('op.w', true, 5, date_trunc('hour', now()) - INTERVAL '2 hours');
SELECT pgmetrics.record_operation_metric('op.w', false, 50, now());
SELECT pgmetrics.fold_events();

-- Every read of a day, week, month or the whole range must equal the hourly tier merged.
CREATE TEMP TABLE shapes (bucket text, tz text);
INSERT INTO shapes VALUES ('day', 'UTC'), ('week', 'UTC'), ('month', 'UTC'), ('day', 'America/New_York');
CREATE TEMP VIEW route_expected AS
SELECT
    s.bucket, s.tz, date_trunc(s.bucket, h.period_start, s.tz) AS bucket_start, h.route, h.method,
    sum(h.total_requests)::bigint AS total_requests, sum(h.failed)::bigint AS failed,
    sum(h.total_duration_ms) AS total_duration_ms, min(h.min_duration_ms) AS min_duration_ms,
    max(h.max_duration_ms) AS max_duration_ms,
    pgmetrics._histogram_quantiles(
        pgmetrics._histogram_merge_agg(h.duration_histogram), sum(h.zero_count)::bigint, '{0.5,0.95,0.99}',
        min(h.min_duration_ms), max(h.max_duration_ms)
    ) AS quantiles,
    max(h.last_request_at) AS last_request_at
FROM pgmetrics.route_metrics AS h CROSS JOIN shapes AS s
GROUP BY 1, 2, 3, 4, 5;
CREATE TEMP VIEW route_summaries AS
SELECT s.bucket, s.tz, r.bucket_start, r.route, r.method, r.total_requests, r.failed, r.total_duration_ms,
       r.min_duration_ms, r.max_duration_ms, ARRAY[r.p50_duration_ms, r.p95_duration_ms, r.p99_duration_ms] AS quantiles,
       r.last_request_at
FROM shapes AS s
CROSS JOIN LATERAL pgmetrics.route_metrics_summary(
    date_trunc('month', now()) - INTERVAL '1 month', date_trunc('month', now()) + INTERVAL '2 months', s.bucket,
    tz => s.tz
) AS r;
CREATE TEMP VIEW route_views AS
SELECT 'day' AS bucket, 'UTC' AS tz, v.bucket_start, v.route, v.method, v.total_requests, v.failed,
       v.total_duration_ms, v.min_duration_ms, v.max_duration_ms,
       ARRAY[v.p50_duration_ms, v.p95_duration_ms, v.p99_duration_ms] AS quantiles, v.last_request_at
FROM pgmetrics.route_metrics_by_day AS v
UNION ALL
SELECT 'week', 'UTC', v.bucket_start, v.route, v.method, v.total_requests, v.failed, v.total_duration_ms,
       v.min_duration_ms, v.max_duration_ms, ARRAY[v.p50_duration_ms, v.p95_duration_ms, v.p99_duration_ms],
       v.last_request_at
FROM pgmetrics.route_metrics_by_week AS v
UNION ALL
SELECT 'month', 'UTC', v.bucket_start, v.route, v.method, v.total_requests, v.failed, v.total_duration_ms,
       v.min_duration_ms, v.max_duration_ms, ARRAY[v.p50_duration_ms, v.p95_duration_ms, v.p99_duration_ms],
       v.last_request_at
FROM pgmetrics.route_metrics_by_month AS v;
CREATE TEMP VIEW operation_expected AS
SELECT
    s.bucket, date_trunc(s.bucket, h.period_start, 'UTC') AS bucket_start, h.operation,
    sum(h.total_executions)::bigint AS total_executions, sum(h.failed)::bigint AS failed,
    min(h.min_duration_ms) AS min_duration_ms, max(h.max_duration_ms) AS max_duration_ms,
    pgmetrics._histogram_quantiles(
        pgmetrics._histogram_merge_agg(h.duration_histogram), sum(h.zero_count)::bigint, '{0.5,0.95,0.99}',
        min(h.min_duration_ms), max(h.max_duration_ms)
    ) AS quantiles
FROM pgmetrics.operation_metrics AS h CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS s (bucket)
GROUP BY 1, 2, 3;
CREATE TEMP VIEW operation_views AS
SELECT 'day' AS bucket, v.bucket_start, v.operation, v.total_executions, v.failed, v.min_duration_ms,
       v.max_duration_ms, ARRAY[v.p50_duration_ms, v.p95_duration_ms, v.p99_duration_ms] AS quantiles
FROM pgmetrics.operation_metrics_by_day AS v
UNION ALL
SELECT 'week', v.bucket_start, v.operation, v.total_executions, v.failed, v.min_duration_ms, v.max_duration_ms,
       ARRAY[v.p50_duration_ms, v.p95_duration_ms, v.p99_duration_ms]
FROM pgmetrics.operation_metrics_by_week AS v
UNION ALL
SELECT 'month', v.bucket_start, v.operation, v.total_executions, v.failed, v.min_duration_ms, v.max_duration_ms,
       ARRAY[v.p50_duration_ms, v.p95_duration_ms, v.p99_duration_ms]
FROM pgmetrics.operation_metrics_by_month AS v;
CREATE TEMP VIEW quantile_expected AS
SELECT pgmetrics._histogram_quantile(
    pgmetrics._histogram_merge_agg(h.duration_histogram), sum(h.zero_count)::bigint, 0.99, min(h.min_duration_ms),
    max(h.max_duration_ms)
) AS p99
FROM pgmetrics.route_metrics AS h;

SELECT is(
    (SELECT rolled_until FROM pgmetrics.rollup_watermark), date_trunc('hour', now()),
    'the fold rolls up the hours before the hour under way'
);
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_metrics), 3::bigint, 'the hour under way is in the hourly tier'
);
SELECT is(
    (SELECT array_agg(DISTINCT total) FROM (
        SELECT sum(r.total_requests) AS total FROM pgmetrics.route_metrics_rollup AS r GROUP BY r.grain, r.zone
    ) AS t),
    ARRAY[3]::numeric [],
    'every rollup holds the hour that is over and none of the hour under way'
);
SELECT set_eq(
    'SELECT * FROM route_summaries', 'SELECT * FROM route_expected',
    'route summaries by UTC day, week, month and local day add the hours the rollups do not hold'
);
SELECT set_eq(
    'SELECT * FROM route_views', $$SELECT * FROM route_expected WHERE tz = 'UTC'$$,
    'the day, week and month views add the hours the rollups do not hold'
);
SELECT set_eq(
    'SELECT * FROM operation_views', 'SELECT * FROM operation_expected',
    'the operation views add the hours the rollups do not hold'
);
SELECT results_eq(
    $$SELECT total_requests, max_duration_ms
      FROM pgmetrics.route_metrics_summary(now() - INTERVAL '3 hours', now() + INTERVAL '1 hour', 'all', '/w')$$,
    $$VALUES (7::bigint, 900::float8)$$,
    'bucket all counts both hours'
);
SELECT is(
    pgmetrics.route_duration_quantile(
        0.99, date_trunc('month', now()) - INTERVAL '1 month', date_trunc('month', now()) + INTERVAL '2 months'
    ),
    (SELECT p99 FROM quantile_expected),
    'route_duration_quantile counts the hour under way'
);

-- The hour ends: the next fold rolls it up, and every read stays as it was.
CREATE TEMP TABLE before_roll AS
SELECT 'summaries' AS source, s.* FROM route_summaries AS s
UNION ALL
SELECT 'views', v.* FROM route_views AS v;
SELECT pgmetrics._fold_events(TRUE, now() + INTERVAL '1 hour');
SELECT is(
    (SELECT rolled_until FROM pgmetrics.rollup_watermark), date_trunc('hour', now()) + INTERVAL '1 hour',
    'the watermark moves to the hour given'
);
SELECT is(
    (SELECT array_agg(DISTINCT total) FROM (
        SELECT sum(r.total_requests) AS total FROM pgmetrics.route_metrics_rollup AS r GROUP BY r.grain, r.zone
    ) AS t),
    ARRAY[8]::numeric [],
    'every rollup holds both hours once the second is over'
);
SELECT set_eq(
    $$SELECT 'summaries' AS source, s.* FROM route_summaries AS s UNION ALL SELECT 'views', v.* FROM route_views AS v$$,
    'SELECT * FROM before_roll',
    'summaries and views read the same once the hour is rolled up'
);
SELECT set_eq(
    'SELECT * FROM operation_views', 'SELECT * FROM operation_expected',
    'the operation views read the same once the hour is rolled up'
);
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_metrics), 3::bigint, 'rolling up leaves the hourly tier as it was'
);
SELECT is(
    pgmetrics.fold_events(),
    '{"route_cells_folded": 0, "route_events_folded": 0, "operation_cells_folded": 0, "operation_events_folded": 0,
      "route_keys_overflowed": 0, "operation_keys_overflowed": 0}',
    'a fold with nothing pending and the watermark ahead of now writes nothing'
);
SELECT is(
    (SELECT rolled_until FROM pgmetrics.rollup_watermark), date_trunc('hour', now()) + INTERVAL '1 hour',
    'the watermark never moves back'
);

-- A late event of an hour the rollups hold goes to both tiers at once.
SELECT pgmetrics.record_route_metric('/w', 'GET', true, 40, date_trunc('hour', now()) - INTERVAL '2 hours');
SELECT pgmetrics.fold_events();
SELECT is(
    (SELECT array_agg(DISTINCT total) FROM (
        SELECT sum(r.total_requests) AS total FROM pgmetrics.route_metrics_rollup AS r GROUP BY r.grain, r.zone
    ) AS t),
    ARRAY[9]::numeric [],
    'a late event of a rolled-up hour reaches the rollups'
);
SELECT set_eq(
    'SELECT * FROM route_views', $$SELECT * FROM route_expected WHERE tz = 'UTC'$$,
    'the views count the late event once'
);

-- A zone added while an hour is under way: its local days get the rolled-up hours now and the others when rolled up.
SELECT pgmetrics.record_route_metric('/z', 'GET', true, 3, now() + INTERVAL '2 hours');
SELECT pgmetrics.fold_events();
SELECT pgmetrics.add_report_zone('Asia/Kolkata');
SELECT is(
    (SELECT sum(total_requests) FROM pgmetrics.route_metrics_rollup WHERE zone = 'Asia/Kolkata'), 9::numeric,
    'a new zone backfills the hours the rollups hold'
);
SELECT pgmetrics._fold_events(TRUE, now() + INTERVAL '3 hours');
SELECT is(
    (SELECT sum(total_requests) FROM pgmetrics.route_metrics_rollup WHERE zone = 'Asia/Kolkata'), 10::numeric,
    'the new zone gets the later hours when they are rolled up'
);

-- Retention far ahead rolls up every hour it expires before it drops them.
SELECT pgmetrics.run_retention(now() + INTERVAL '200 days');
SELECT is(
    (SELECT sum(total_requests) FROM pgmetrics.route_metrics_rollup WHERE grain = 'month'), 10::numeric,
    'retention rolls up the hours it expires'
);

SELECT * FROM finish();
ROLLBACK;
