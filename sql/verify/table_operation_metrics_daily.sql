-- Verify pgmetrics:table_operation_metrics_daily on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.to_regclass('pgmetrics.operation_metrics_daily') IS NULL)::int;

ROLLBACK;
