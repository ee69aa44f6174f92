-- Revert pgmetrics:function_schedule_retention from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.schedule_retention(text);

COMMIT;
