-- Verify pgmetrics:table_route_cells on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    route,
    method,
    period_start,
    total_requests,
    successful,
    total_duration_ms,
    min_duration_ms,
    max_duration_ms,
    last_request_at,
    zero_count,
    duration_histogram
FROM pgmetrics.route_cells
WHERE FALSE;

SELECT 1 / c.relrowsecurity::int FROM pg_catalog.pg_class AS c
WHERE c.oid = 'pgmetrics.route_cells'::regclass;

ROLLBACK;
