-- Revert pgmetrics:trigger_operation_metrics_daily from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TRIGGER operation_metrics_daily_update ON pgmetrics.operation_metrics;
DROP TRIGGER operation_metrics_daily_insert ON pgmetrics.operation_metrics;

COMMIT;
