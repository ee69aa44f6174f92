-- Verify pgmetrics:function__operation_metrics_daily_apply on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.to_regprocedure('pgmetrics._operation_metrics_daily_apply()') IS NULL)::int;

ROLLBACK;
