BEGIN;
SELECT plan(5);

SET LOCAL timezone = 'UTC';
SELECT pgmetrics.add_report_zone('America/New_York');
SELECT pgmetrics.add_report_zone('Asia/Kolkata');
SELECT pgmetrics.add_report_zone('Europe/London');

-- An event every 20 minutes for four days over the US change to summer time (2026-03-08 07:00 UTC) and two over the
-- EU one (2026-03-29 01:00 UTC), folded at once: the fold sums each key's hours per segment (the hours sharing a day
-- in every zone), and builds each local day from the segments of two UTC days. Durations are halves, so that every
-- sum is exact whatever its order.
CREATE TEMP VIEW wave AS
SELECT i, t
FROM (
    SELECT i, '2026-03-06 00:00+00'::timestamptz + i * INTERVAL '20 minutes' FROM generate_series(0, 287) AS i
    UNION ALL
    SELECT i, '2026-03-28 00:00+00'::timestamptz + i * INTERVAL '20 minutes' FROM generate_series(288, 431) AS i
) AS w (i, t);
SELECT count(pgmetrics.record_route_metric(
    '/s', CASE WHEN i % 2 = 0 THEN 'GET' ELSE 'POST' END, i % 5 <> 0, (i % 97) + 0.5, t
)) FROM wave;
SELECT count(pgmetrics.record_operation_metric('job', i % 7 <> 0, CASE WHEN i % 11 = 0 THEN 0 ELSE i % 89 END, t))
FROM wave;
SELECT pgmetrics.fold_events();

SELECT is(
    (SELECT total_requests FROM pgmetrics.route_metrics_rollup
     WHERE route = '/s' AND method = 'GET' AND grain = 'day' AND zone = 'America/New_York'
         AND period_start = '2026-03-08 05:00+00')
    + (SELECT total_requests FROM pgmetrics.route_metrics_rollup
       WHERE route = '/s' AND method = 'POST' AND grain = 'day' AND zone = 'America/New_York'
           AND period_start = '2026-03-08 05:00+00'),
    69::bigint,
    'the New York day of the change to summer time holds its 23 hours'
);

-- Late events into hours already rolled up, and a cell, merged into the stored rows by a second fold.
SELECT count(pgmetrics.record_route_metric('/s', 'GET', true, 1.5, t)) FROM wave WHERE i % 9 = 0;
SELECT pgmetrics.ingest_batch(
    '00000000-0000-0000-0000-000000000009',
    ARRAY[
        ROW('/s', 'POST', '2026-03-29 00:00+00', 2, 1, 5.0, 1.0, 4.0, '2026-03-29 00:59+00', 0,
            ARRAY[(0 << 15) | 1, (70 << 15) | 1])::pgmetrics.route_cell
    ],
    NULL
);
SELECT pgmetrics.fold_events();

CREATE TEMP TABLE tiers (grain text, zone text);
INSERT INTO tiers VALUES ('day', 'UTC'), ('week', 'UTC'), ('month', 'UTC'), ('day', 'America/New_York'),
    ('day', 'Asia/Kolkata'), ('day', 'Europe/London');
CREATE TEMP VIEW route_expected AS
SELECT s.*, (
    SELECT array_agg(b.k << 15 | b.c ORDER BY b.k)
    FROM (
        SELECT e >> 15 AS k, sum(e & 32767)::int AS c
        FROM pgmetrics.route_metrics AS h CROSS JOIN unnest(h.duration_histogram) AS e
        WHERE (h.route, h.method) = (s.route, s.method)
            AND date_trunc(s.grain, h.period_start, s.zone) = s.period_start
        GROUP BY 1
    ) AS b
) AS duration_histogram
FROM (
    SELECT h.route, h.method, t.grain, t.zone, date_trunc(t.grain, h.period_start, t.zone) AS period_start,
           sum(h.total_requests)::bigint AS total_requests, sum(h.successful)::bigint AS successful,
           sum(h.total_duration_ms) AS total_duration_ms, min(h.min_duration_ms) AS min_duration_ms,
           max(h.max_duration_ms) AS max_duration_ms, sum(h.zero_count)::bigint AS zero_count
    FROM pgmetrics.route_metrics AS h CROSS JOIN tiers AS t
    GROUP BY 1, 2, 3, 4, 5
) AS s;
CREATE TEMP VIEW operation_expected AS
SELECT s.*, (
    SELECT COALESCE(array_agg(b.k << 15 | b.c ORDER BY b.k), '{}')
    FROM (
        SELECT e >> 15 AS k, sum(e & 32767)::int AS c
        FROM pgmetrics.operation_metrics AS h CROSS JOIN unnest(h.duration_histogram) AS e
        WHERE h.operation = s.operation AND date_trunc(s.grain, h.period_start, s.zone) = s.period_start
        GROUP BY 1
    ) AS b
) AS duration_histogram
FROM (
    SELECT h.operation, t.grain, t.zone, date_trunc(t.grain, h.period_start, t.zone) AS period_start,
           sum(h.total_executions)::bigint AS total_executions, sum(h.successful)::bigint AS successful,
           sum(h.total_duration_ms) AS total_duration_ms, min(h.min_duration_ms) AS min_duration_ms,
           max(h.max_duration_ms) AS max_duration_ms, sum(h.zero_count)::bigint AS zero_count
    FROM pgmetrics.operation_metrics AS h CROSS JOIN tiers AS t
    GROUP BY 1, 2, 3, 4
) AS s;

SELECT is((SELECT sum(total_requests) FROM pgmetrics.route_metrics)::bigint, 432 + 48 + 2::bigint,
    'the hourly tier holds every route event and the cell');
SELECT set_eq(
    $$SELECT route, method, grain, zone, period_start, total_requests, successful, total_duration_ms,
             min_duration_ms, max_duration_ms, zero_count, duration_histogram
      FROM pgmetrics.route_metrics_rollup$$,
    $$SELECT * FROM route_expected$$,
    'every route rollup row, in every zone over both changes of time, is the sum of its hours'
);
SELECT set_eq(
    $$SELECT operation, grain, zone, period_start, total_executions, successful, total_duration_ms,
             min_duration_ms, max_duration_ms, zero_count, duration_histogram
      FROM pgmetrics.operation_metrics_rollup$$,
    $$SELECT * FROM operation_expected$$,
    'every operation rollup row is the sum of its hours, zero durations included'
);
SELECT is_empty(
    $$SELECT 1 FROM pgmetrics.route_metrics_rollup
      WHERE duration_quantiles IS DISTINCT FROM pgmetrics._histogram_quantiles(
          duration_histogram, zero_count, '{0.5,0.95,0.99}', min_duration_ms, max_duration_ms)$$,
    'route rollup quantiles are those of their merged histograms'
);

SELECT * FROM finish();
ROLLBACK;
