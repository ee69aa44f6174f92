-- Revert pgmetrics:view_operation_metrics_by_month from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP VIEW pgmetrics.operation_metrics_by_month;

-- One stored rollup row per key and period, with its stored quantiles: the view merges nothing.
CREATE VIEW pgmetrics.operation_metrics_by_month WITH (security_invoker = FALSE) AS
SELECT  -- noqa: ST06
    r.period_start AS bucket_start,
    r.operation,
    r.total_executions,
    r.successful,
    r.failed,
    r.failed::double precision / r.total_executions::double precision AS error_rate,
    r.total_duration_ms,
    r.total_duration_ms / r.total_executions::double precision AS average_duration_ms,
    r.min_duration_ms,
    r.max_duration_ms,
    r.duration_quantiles[1] AS p50_duration_ms,
    r.duration_quantiles[2] AS p95_duration_ms,
    r.duration_quantiles[3] AS p99_duration_ms,
    r.last_execution_at
FROM pgmetrics.operation_metrics_rollup AS r
WHERE r.grain = 'month' AND r.zone = 'UTC';

COMMENT ON VIEW pgmetrics.operation_metrics_by_month IS
'Operation metrics per calendar month in UTC, for dashboards and psql: the columns of operation_metrics_summary, '
'read from the month rollup as of the last fold_events. Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.operation_metrics_by_month FROM public;
GRANT SELECT ON pgmetrics.operation_metrics_by_month TO pgmetrics_reader;

COMMIT;
