-- Verify pgmetrics:trigger_operation_metrics_daily on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.count(*) = 0)::int
FROM pg_catalog.pg_trigger
WHERE tgrelid = 'pgmetrics.operation_metrics'::regclass AND NOT tgisinternal;

ROLLBACK;
