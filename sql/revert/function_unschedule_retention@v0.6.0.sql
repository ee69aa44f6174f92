-- Revert pgmetrics:function_unschedule_retention from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.unschedule_retention();

COMMIT;
