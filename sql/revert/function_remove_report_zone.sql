-- Revert pgmetrics:function_remove_report_zone from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.remove_report_zone(text);

COMMIT;
