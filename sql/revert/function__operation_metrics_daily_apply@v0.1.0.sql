-- Revert pgmetrics:function__operation_metrics_daily_apply from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._operation_metrics_daily_apply();

COMMIT;
