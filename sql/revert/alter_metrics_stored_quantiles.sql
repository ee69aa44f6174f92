-- Revert pgmetrics:alter_metrics_stored_quantiles from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- PostgreSQL 15 cannot turn a column back into a generated one: the views reading it go while it is re-created.
DROP VIEW pgmetrics.route_metrics_by_hour;
DROP VIEW pgmetrics.operation_metrics_by_hour;
ALTER TABLE pgmetrics.route_metrics DROP COLUMN duration_quantiles;
ALTER TABLE pgmetrics.operation_metrics DROP COLUMN duration_quantiles;
ALTER TABLE pgmetrics.route_metrics ADD COLUMN duration_quantiles double precision[] GENERATED ALWAYS AS (
    pgmetrics._histogram_quantiles(
        duration_histogram, zero_count, '{0.5,0.95,0.99}', min_duration_ms, max_duration_ms
    )
) STORED;
ALTER TABLE pgmetrics.operation_metrics ADD COLUMN duration_quantiles double precision[] GENERATED ALWAYS AS (
    pgmetrics._histogram_quantiles(
        duration_histogram, zero_count, '{0.5,0.95,0.99}', min_duration_ms, max_duration_ms
    )
) STORED;

CREATE VIEW pgmetrics.route_metrics_by_hour WITH (security_invoker = FALSE) AS
-- The columns come in the order of the summary functions, calculated or not.
SELECT  -- noqa: ST06
    m.period_start AS bucket_start,
    m.route,
    m.method,
    m.total_requests,
    m.successful,
    m.failed,
    m.failed::double precision / m.total_requests::double precision AS error_rate,
    m.total_duration_ms,
    m.total_duration_ms / m.total_requests::double precision AS average_duration_ms,
    m.min_duration_ms,
    m.max_duration_ms,
    m.duration_quantiles[1] AS p50_duration_ms,
    m.duration_quantiles[2] AS p95_duration_ms,
    m.duration_quantiles[3] AS p99_duration_ms,
    m.last_request_at
FROM pgmetrics.route_metrics AS m;

COMMENT ON VIEW pgmetrics.route_metrics_by_hour IS
'Route metrics per UTC hour, for dashboards and psql: the columns of route_metrics_summary. '
'Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.route_metrics_by_hour FROM public;
GRANT SELECT ON pgmetrics.route_metrics_by_hour TO pgmetrics_reader;

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
