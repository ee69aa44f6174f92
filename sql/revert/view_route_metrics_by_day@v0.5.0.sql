-- Revert pgmetrics:view_route_metrics_by_day from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- One stored rollup row per key and period, with its stored quantiles: the view merges nothing.
DROP VIEW pgmetrics.route_metrics_by_day;
CREATE VIEW pgmetrics.route_metrics_by_day WITH (security_invoker = FALSE) AS
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
WHERE r.grain = 'day' AND r.zone = 'UTC';

COMMENT ON VIEW pgmetrics.route_metrics_by_day IS
'Route metrics per UTC day, for dashboards and psql: the columns of route_metrics_summary, read from the '
'day rollup as of the last fold_events. Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.route_metrics_by_day FROM public;
GRANT SELECT ON pgmetrics.route_metrics_by_day TO pgmetrics_reader;

COMMIT;
