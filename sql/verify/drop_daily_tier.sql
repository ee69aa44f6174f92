-- Verify pgmetrics:drop_daily_tier on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.to_regclass('pgmetrics.route_metrics_daily') IS NULL)::int;
SELECT 1 / (pg_catalog.to_regclass('pgmetrics.operation_metrics_daily') IS NULL)::int;

ROLLBACK;
