-- Verify pgmetrics:table_route_events on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    route,
    method,
    period_start,
    success,
    duration_ms,
    at
FROM pgmetrics.route_events
WHERE FALSE;

SELECT 1 / c.relrowsecurity::int FROM pg_catalog.pg_class AS c
WHERE c.oid = 'pgmetrics.route_events'::regclass;

ROLLBACK;
