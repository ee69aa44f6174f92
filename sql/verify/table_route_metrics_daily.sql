-- Verify pgmetrics:table_route_metrics_daily on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.to_regclass('pgmetrics.route_metrics_daily') IS NULL)::int;

ROLLBACK;
