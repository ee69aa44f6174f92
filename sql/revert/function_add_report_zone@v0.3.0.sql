-- Revert pgmetrics:function_add_report_zone from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.add_report_zone(text);

COMMIT;
