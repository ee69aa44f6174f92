-- Revert pgmetrics:function_set_setting from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.set_setting(text, integer);

COMMIT;
