-- Verify pgmetrics:view_route_metrics_by_day on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    bucket_start,
    route,
    method,
    total_requests,
    successful,
    failed,
    error_rate,
    total_duration_ms,
    average_duration_ms,
    min_duration_ms,
    max_duration_ms,
    p50_duration_ms,
    p95_duration_ms,
    p99_duration_ms,
    last_request_at
FROM pgmetrics.route_metrics_by_day
WHERE FALSE;

-- Owned by the schema owner, reading as its owner, SELECT for the reader and for nobody else.
SELECT 1 / count(*)
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
WHERE
    c.oid = 'pgmetrics.route_metrics_by_day'::regclass
    AND c.relowner = n.nspowner
    AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], FALSE);
SELECT 1 / pg_catalog.has_table_privilege('pgmetrics_reader', 'pgmetrics.route_metrics_by_day', 'SELECT')::int;
SELECT 1 / (NOT pg_catalog.has_table_privilege('pgmetrics_writer', 'pgmetrics.route_metrics_by_day', 'SELECT'))::int;
SELECT 1 / (NOT pg_catalog.has_table_privilege('public', 'pgmetrics.route_metrics_by_day', 'SELECT'))::int;

ROLLBACK;
