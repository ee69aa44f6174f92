-- Revert pgmetrics:function_operation_metrics_summary from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.operation_metrics_summary(timestamptz, timestamptz, text, text, text);

COMMIT;
