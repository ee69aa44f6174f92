-- Revert pgmetrics:view_operation_metrics_by_day from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The daily tier as it is: one row per key and UTC day, kept after the hourly detail expires.
-- Not security_invoker: the view reads the tables as its owner, the schema owner, so the reader needs SELECT on the
-- view only and the tables keep no privileges for the roles.
CREATE OR REPLACE VIEW pgmetrics.operation_metrics_by_day WITH (security_invoker = FALSE) AS
-- The columns come in the order of the summary functions, calculated or not.
SELECT  -- noqa: ST06
    d.period_start AS bucket_start,
    d.operation,
    d.total_executions,
    d.successful,
    d.failed,
    d.failed::double precision / d.total_executions::double precision AS error_rate,
    d.total_duration_ms,
    d.total_duration_ms / d.total_executions::double precision AS average_duration_ms,
    d.min_duration_ms,
    d.max_duration_ms,
    d.duration_quantiles[1] AS p50_duration_ms,
    d.duration_quantiles[2] AS p95_duration_ms,
    d.duration_quantiles[3] AS p99_duration_ms,
    d.last_execution_at
FROM pgmetrics.operation_metrics_daily AS d;

COMMENT ON VIEW pgmetrics.operation_metrics_by_day IS
'Operation metrics per UTC day, for dashboards and psql: the columns of operation_metrics_summary. '
'Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.operation_metrics_by_day FROM public;
GRANT SELECT ON pgmetrics.operation_metrics_by_day TO pgmetrics_reader;

COMMIT;
