BEGIN;
SELECT plan(8);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.add_report_zone('America/New_York');
SELECT pgmetrics.add_report_zone('Asia/Kolkata');

-- Hours on both sides of UTC and local midnights, a month and an ISO week boundary, through every writing path,
-- folded three times so that later folds merge into stored rows.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 10, '2026-02-28 23:10+00');
SELECT pgmetrics.record_route_metric('/a', 'get', false, 30, '2026-03-01 04:50+00');
SELECT pgmetrics.record_route_metric('/a', 'POST', true, 0, '2026-03-01 18:40+00');
SELECT pgmetrics.record_operation_metric('send_email', true, 100, '2026-03-01 23:59:59+00');
SELECT pgmetrics.fold_events();
SELECT pgmetrics.ingest_batch(
    '00000000-0000-0000-0000-000000000001',
    ARRAY[
        ROW('/a', 'GET', '2026-02-28 23:00+00', 3, 2, 36.5, 0, 24.0, '2026-02-28 23:59+00', 1,
            ARRAY[(127 << 15) | 1, (159 << 15) | 1])::pgmetrics.route_cell,
        ROW('/b', 'GET', '2026-03-02 00:00+00', 2, 2, 3.0, 1.0, 2.0, '2026-03-02 00:30+00', 0,
            ARRAY[(0 << 15) | 1, (35 << 15) | 1])::pgmetrics.route_cell
    ],
    ARRAY[
        ROW('send_email', '2026-03-01 23:00+00', 2, 1, 80.5, 0.5, 80.0, '2026-03-01 23:30+00', 0,
            ARRAY[(-35 << 15) | 1, (220 << 15) | 1])::pgmetrics.operation_cell
    ]
);
SELECT pgmetrics.fold_events();
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 12.5, '2026-02-28 23:20+00');
SELECT pgmetrics.record_route_metric('/b', 'GET', false, 7, '2026-03-02 00:10+00');
SELECT pgmetrics.record_operation_metric('send_email', false, 3, '2026-03-01 23:00+00');
SELECT pgmetrics.fold_events();

-- What each rollup row must hold: the sum of its hours, the merge of their histograms.
CREATE TEMP TABLE tiers (grain text, zone text);
INSERT INTO tiers VALUES ('day', 'UTC'), ('week', 'UTC'), ('month', 'UTC'), ('day', 'America/New_York'),
    ('day', 'Asia/Kolkata');
CREATE TEMP VIEW route_buckets AS
SELECT h.route, h.method, t.grain, t.zone, date_trunc(t.grain, h.period_start, t.zone) AS period_start,
       e >> 15 AS k, sum(e & 32767)::int AS c
FROM pgmetrics.route_metrics AS h CROSS JOIN tiers AS t CROSS JOIN unnest(h.duration_histogram) AS e
GROUP BY 1, 2, 3, 4, 5, 6;
CREATE TEMP VIEW route_expected AS
SELECT s.*, COALESCE(
    (SELECT array_agg(b.k << 15 | b.c ORDER BY b.k) FROM route_buckets AS b
     WHERE (b.route, b.method, b.grain, b.zone, b.period_start) = (s.route, s.method, s.grain, s.zone, s.period_start)),
    '{}') AS duration_histogram
FROM (
    SELECT h.route, h.method, t.grain, t.zone, date_trunc(t.grain, h.period_start, t.zone) AS period_start,
           sum(h.total_requests)::bigint AS total_requests, sum(h.successful)::bigint AS successful,
           sum(h.failed)::bigint AS failed, sum(h.total_duration_ms) AS total_duration_ms,
           min(h.min_duration_ms) AS min_duration_ms, max(h.max_duration_ms) AS max_duration_ms,
           max(h.last_request_at) AS last_request_at, sum(h.zero_count)::bigint AS zero_count
    FROM pgmetrics.route_metrics AS h CROSS JOIN tiers AS t
    GROUP BY 1, 2, 3, 4, 5
) AS s;
CREATE TEMP VIEW operation_buckets AS
SELECT h.operation, t.grain, t.zone, date_trunc(t.grain, h.period_start, t.zone) AS period_start,
       e >> 15 AS k, sum(e & 32767)::int AS c
FROM pgmetrics.operation_metrics AS h CROSS JOIN tiers AS t CROSS JOIN unnest(h.duration_histogram) AS e
GROUP BY 1, 2, 3, 4, 5;
CREATE TEMP VIEW operation_expected AS
SELECT s.*, COALESCE(
    (SELECT array_agg(b.k << 15 | b.c ORDER BY b.k) FROM operation_buckets AS b
     WHERE (b.operation, b.grain, b.zone, b.period_start) = (s.operation, s.grain, s.zone, s.period_start)),
    '{}') AS duration_histogram
FROM (
    SELECT h.operation, t.grain, t.zone, date_trunc(t.grain, h.period_start, t.zone) AS period_start,
           sum(h.total_executions)::bigint AS total_executions, sum(h.successful)::bigint AS successful,
           sum(h.failed)::bigint AS failed, sum(h.total_duration_ms) AS total_duration_ms,
           min(h.min_duration_ms) AS min_duration_ms, max(h.max_duration_ms) AS max_duration_ms,
           max(h.last_execution_at) AS last_execution_at, sum(h.zero_count)::bigint AS zero_count
    FROM pgmetrics.operation_metrics AS h CROSS JOIN tiers AS t
    GROUP BY 1, 2, 3, 4
) AS s;

SELECT is((SELECT sum(total_requests) FROM pgmetrics.route_metrics)::bigint, 10::bigint,
    'the hourly tier holds every route event');
SELECT set_eq(
    $$SELECT route, method, grain, zone, period_start, total_requests, successful, failed, total_duration_ms,
             min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
      FROM pgmetrics.route_metrics_rollup$$,
    $$SELECT * FROM route_expected$$,
    'every route rollup row is the sum of its hours, histograms merged, and no row is missing'
);
SELECT set_eq(
    $$SELECT operation, grain, zone, period_start, total_executions, successful, failed, total_duration_ms,
             min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram
      FROM pgmetrics.operation_metrics_rollup$$,
    $$SELECT * FROM operation_expected$$,
    'every operation rollup row is the sum of its hours, histograms merged'
);
SELECT is_empty(
    $$SELECT 1 FROM pgmetrics.route_metrics_rollup
      WHERE duration_quantiles IS DISTINCT FROM pgmetrics._histogram_quantiles(
          duration_histogram, zero_count, '{0.5,0.95,0.99}', min_duration_ms, max_duration_ms)$$,
    'route rollup quantiles are those of their histograms'
);
SELECT is_empty(
    $$SELECT 1 FROM pgmetrics.route_metrics
      WHERE duration_quantiles IS DISTINCT FROM pgmetrics._histogram_quantiles(
          duration_histogram, zero_count, '{0.5,0.95,0.99}', min_duration_ms, max_duration_ms)$$,
    'hourly quantiles are those of their histograms'
);
SELECT is_empty(
    $$SELECT 1 FROM pgmetrics.operation_metrics_rollup
      WHERE duration_quantiles IS DISTINCT FROM pgmetrics._histogram_quantiles(
          duration_histogram, zero_count, '{0.5,0.95,0.99}', min_duration_ms, max_duration_ms)$$,
    'operation rollup quantiles are those of their histograms'
);
SELECT results_eq(
    $$SELECT period_start, total_requests FROM pgmetrics.route_metrics_rollup
      WHERE route = '/a' AND method = 'GET' AND grain = 'day' AND zone = 'Asia/Kolkata' ORDER BY 1$$,
    $$VALUES ('2026-02-28 18:30+00'::timestamptz, 6::bigint)$$,
    'an hour counts in the Kolkata day holding its start'
);
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_cells) + (SELECT count(*) FROM pgmetrics.route_events),
    0::bigint,
    'nothing is left pending'
);

SELECT * FROM finish();
ROLLBACK;
