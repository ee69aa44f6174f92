-- Revert pgmetrics:function_report_status from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.report_status();

COMMIT;
