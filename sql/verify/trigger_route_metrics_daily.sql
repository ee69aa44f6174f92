-- Verify pgmetrics:trigger_route_metrics_daily on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.count(*) = 0)::int
FROM pg_catalog.pg_trigger
WHERE tgrelid = 'pgmetrics.route_metrics'::regclass AND NOT tgisinternal;

ROLLBACK;
