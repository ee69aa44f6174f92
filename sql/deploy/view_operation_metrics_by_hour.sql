-- Deploy pgmetrics:view_operation_metrics_by_hour to pg
-- requires: table_operation_metrics
-- requires: role_pgmetrics_reader

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The hourly detail tier as it is: one row per key and UTC hour.
-- Not security_invoker: the view reads the tables as its owner, the schema owner, so the reader needs SELECT on the
-- view only and the tables keep no privileges for the roles.
CREATE VIEW pgmetrics.operation_metrics_by_hour WITH (security_invoker = FALSE) AS
-- The columns come in the order of the summary functions, calculated or not.
SELECT  -- noqa: ST06
    m.period_start AS bucket_start,
    m.operation,
    m.total_executions,
    m.successful,
    m.failed,
    m.failed::double precision / m.total_executions::double precision AS error_rate,
    m.total_duration_ms,
    m.total_duration_ms / m.total_executions::double precision AS average_duration_ms,
    m.min_duration_ms,
    m.max_duration_ms,
    m.duration_quantiles[1] AS p50_duration_ms,
    m.duration_quantiles[2] AS p95_duration_ms,
    m.duration_quantiles[3] AS p99_duration_ms,
    m.last_execution_at
FROM pgmetrics.operation_metrics AS m;

COMMENT ON VIEW pgmetrics.operation_metrics_by_hour IS
'Operation metrics per UTC hour, for dashboards and psql: the columns of operation_metrics_summary. '
'Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.operation_metrics_by_hour FROM public;
GRANT SELECT ON pgmetrics.operation_metrics_by_hour TO pgmetrics_reader;

COMMIT;
