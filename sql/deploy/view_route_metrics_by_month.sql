-- Deploy pgmetrics:view_route_metrics_by_month to pg
-- requires: table_rollup_watermark

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * A period the rollup watermark has passed is one stored row with its stored quantiles. The period under way (the
 * rollups hold its hours before the watermark) is its rollup row and its later hours, merged here in the manner of
 * a real-time continuous aggregate: one period per key, and none for a key with a single row in it.
 */
DROP VIEW pgmetrics.route_metrics_by_month;

CREATE VIEW pgmetrics.route_metrics_by_month WITH (security_invoker = FALSE) AS
WITH watermark AS (
    SELECT
        w.rolled_until,
        pg_catalog.date_trunc('month', w.rolled_until, 'UTC') AS open_from
    FROM pgmetrics.rollup_watermark AS w
),

open_parts AS (
    SELECT
        r.period_start AS bucket_start,
        r.route,
        r.method,
        r.total_requests,
        r.successful,
        r.failed,
        r.total_duration_ms,
        r.min_duration_ms,
        r.max_duration_ms,
        r.last_request_at,
        r.zero_count,
        r.duration_histogram,
        r.duration_quantiles
    FROM pgmetrics.route_metrics_rollup AS r
    INNER JOIN watermark AS w ON r.period_start >= w.open_from
    WHERE r.grain = 'month' AND r.zone = 'UTC'
    UNION ALL
    SELECT
        pg_catalog.date_trunc('month', h.period_start, 'UTC') AS bucket_start,
        h.route,
        h.method,
        h.total_requests,
        h.successful,
        h.failed,
        h.total_duration_ms,
        h.min_duration_ms,
        h.max_duration_ms,
        h.last_request_at,
        h.zero_count,
        h.duration_histogram,
        h.duration_quantiles
    FROM pgmetrics.route_metrics AS h
    INNER JOIN watermark AS w ON h.period_start >= w.rolled_until
),

open_groups AS (
    SELECT
        p.bucket_start,
        p.route,
        p.method,
        pg_catalog.sum(p.total_requests)::bigint AS total_requests,
        pg_catalog.sum(p.successful)::bigint AS successful,
        pg_catalog.sum(p.failed)::bigint AS failed,
        pg_catalog.sum(p.total_duration_ms) AS total_duration_ms,
        pg_catalog.min(p.min_duration_ms) AS min_duration_ms,
        pg_catalog.max(p.max_duration_ms) AS max_duration_ms,
        pg_catalog.max(p.last_request_at) AS last_request_at,
        pg_catalog.sum(p.zero_count)::bigint AS zero_count,
        pg_catalog.count(*) AS parts,
        pg_catalog.min(p.duration_quantiles) AS quantiles,
        pgmetrics._histogram_concat(p.duration_histogram) AS histogram
    FROM open_parts AS p
    GROUP BY p.bucket_start, p.route, p.method
)

SELECT  -- noqa: ST06
    r.period_start AS bucket_start,
    r.route,
    r.method,
    r.total_requests,
    r.successful,
    r.failed,
    r.failed::double precision / r.total_requests::double precision AS error_rate,
    r.total_duration_ms,
    r.total_duration_ms / r.total_requests::double precision AS average_duration_ms,
    r.min_duration_ms,
    r.max_duration_ms,
    r.duration_quantiles[1] AS p50_duration_ms,
    r.duration_quantiles[2] AS p95_duration_ms,
    r.duration_quantiles[3] AS p99_duration_ms,
    r.last_request_at
FROM pgmetrics.route_metrics_rollup AS r
INNER JOIN watermark AS w ON r.period_start < w.open_from
WHERE r.grain = 'month' AND r.zone = 'UTC'
UNION ALL
SELECT
    g.bucket_start,
    g.route,
    g.method,
    g.total_requests,
    g.successful,
    g.failed,
    g.failed::double precision / g.total_requests::double precision AS error_rate,
    g.total_duration_ms,
    g.total_duration_ms / g.total_requests::double precision AS average_duration_ms,
    g.min_duration_ms,
    g.max_duration_ms,
    CASE WHEN g.parts = 1 THEN g.quantiles[1] ELSE least(greatest(CASE
        WHEN greatest(1, pg_catalog.ceil(0.5 * coalesce(q.total, g.zero_count))) <= g.zero_count THEN 0
        WHEN q.b50 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
            THEN 1.7976931348623157e308
        ELSE pg_catalog.exp(greatest(
            q.b50 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
        ))
    END, g.min_duration_ms), g.max_duration_ms) END AS p50_duration_ms,
    CASE WHEN g.parts = 1 THEN g.quantiles[2] ELSE least(greatest(CASE
        WHEN greatest(1, pg_catalog.ceil(0.95 * coalesce(q.total, g.zero_count))) <= g.zero_count THEN 0
        WHEN q.b95 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
            THEN 1.7976931348623157e308
        ELSE pg_catalog.exp(greatest(
            q.b95 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
        ))
    END, g.min_duration_ms), g.max_duration_ms) END AS p95_duration_ms,
    CASE WHEN g.parts = 1 THEN g.quantiles[3] ELSE least(greatest(CASE
        WHEN greatest(1, pg_catalog.ceil(0.99 * coalesce(q.total, g.zero_count))) <= g.zero_count THEN 0
        WHEN q.b99 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
            THEN 1.7976931348623157e308
        ELSE pg_catalog.exp(greatest(
            q.b99 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
        ))
    END, g.min_duration_ms), g.max_duration_ms) END AS p99_duration_ms,
    g.last_request_at
FROM open_groups AS g
-- A period of several rows merges its histograms on its own: its elements summed per bucket in memory, then walked
-- in order to the first bucket whose running count reaches each rank. It reads its row of open_groups: a lateral
-- subquery, which a CTE cannot be.
CROSS JOIN LATERAL (  -- noqa: ST05
    SELECT
        pg_catalog.max(w.total) AS total,
        pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= greatest(1, pg_catalog.ceil(0.5 * w.total))) AS b50,
        pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= greatest(1, pg_catalog.ceil(0.95 * w.total))) AS b95,
        pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= greatest(1, pg_catalog.ceil(0.99 * w.total))) AS b99
    FROM (
        SELECT
            m.bucket,
            g.zero_count::double precision + pg_catalog.sum(m.c) OVER (ORDER BY m.bucket) AS seen,
            g.zero_count::double precision + pg_catalog.sum(m.c) OVER () AS total
        FROM (
            SELECT
                x.e >> 15 AS bucket,
                pg_catalog.sum((x.e & 32767)::double precision) AS c
            FROM (
                SELECT pg_catalog.unnest(g.histogram) AS e
                WHERE g.parts > 1
            ) AS x
            GROUP BY x.e >> 15
            HAVING pg_catalog.sum((x.e & 32767)::double precision) > 0
        ) AS m
    ) AS w
) AS q;

COMMENT ON VIEW pgmetrics.route_metrics_by_month IS
'Route metrics per calendar month in UTC, for dashboards and psql: the columns of route_metrics_summary. '
'Read from the month rollup as of the last fold_events; the period under way adds its hours that the rollup '
'does not hold yet. Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.route_metrics_by_month FROM public;
GRANT SELECT ON pgmetrics.route_metrics_by_month TO pgmetrics_reader;

COMMIT;
