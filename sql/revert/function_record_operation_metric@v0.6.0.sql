-- Revert pgmetrics:function_record_operation_metric from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.record_operation_metric(text, boolean, double precision, timestamptz);

COMMIT;
