-- Revert pgmetrics:view_operation_metrics_by_week from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- UTC ISO weeks summed from the daily tier, so weeks older than the hourly detail stay complete.
-- Not security_invoker: the view reads the tables as its owner, the schema owner, so the reader needs SELECT on the
-- view only and the tables keep no privileges for the roles.
CREATE OR REPLACE VIEW pgmetrics.operation_metrics_by_week WITH (security_invoker = FALSE) AS
-- The columns come in the order of the summary functions, calculated or not.
SELECT  -- noqa: ST06
    w.bucket_start,
    w.operation,
    w.total_executions,
    w.successful,
    w.failed,
    w.error_rate,
    w.total_duration_ms,
    w.average_duration_ms,
    w.min_duration_ms,
    w.max_duration_ms,
    w.duration_quantiles[1] AS p50_duration_ms,
    w.duration_quantiles[2] AS p95_duration_ms,
    w.duration_quantiles[3] AS p99_duration_ms,
    w.last_execution_at
FROM (
    SELECT  -- noqa: ST06
        pg_catalog.date_trunc('week', d.period_start, 'UTC') AS bucket_start,
        d.operation,
        pg_catalog.sum(d.total_executions)::bigint AS total_executions,
        pg_catalog.sum(d.successful)::bigint AS successful,
        pg_catalog.sum(d.failed)::bigint AS failed,
        pg_catalog.sum(d.failed)::double precision / pg_catalog.sum(d.total_executions)::double precision AS error_rate,
        pg_catalog.sum(d.total_duration_ms) AS total_duration_ms,
        pg_catalog.sum(d.total_duration_ms)
        / pg_catalog.sum(d.total_executions)::double precision AS average_duration_ms,
        pg_catalog.min(d.min_duration_ms) AS min_duration_ms,
        pg_catalog.max(d.max_duration_ms) AS max_duration_ms,
        pg_catalog.max(d.last_execution_at) AS last_execution_at,
        pgmetrics._histogram_quantiles(
            pgmetrics._histogram_merge_agg(d.duration_histogram), pg_catalog.sum(d.zero_count)::bigint,
            '{0.5,0.95,0.99}', pg_catalog.min(d.min_duration_ms), pg_catalog.max(d.max_duration_ms)
        ) AS duration_quantiles
    FROM pgmetrics.operation_metrics_daily AS d
    GROUP BY 1, 2
) AS w;

COMMENT ON VIEW pgmetrics.operation_metrics_by_week IS
'Operation metrics per ISO week (Monday, UTC), for dashboards and psql: the columns of operation_metrics_summary. '
'Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.operation_metrics_by_week FROM public;
GRANT SELECT ON pgmetrics.operation_metrics_by_week TO pgmetrics_reader;

COMMIT;
