-- Revert pgmetrics:function_schedule_fold from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.schedule_fold(text);

COMMIT;
