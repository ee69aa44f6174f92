-- Verify pgmetrics:function__route_metrics_daily_apply on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.to_regprocedure('pgmetrics._route_metrics_daily_apply()') IS NULL)::int;

ROLLBACK;
