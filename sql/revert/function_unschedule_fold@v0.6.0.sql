-- Revert pgmetrics:function_unschedule_fold from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.unschedule_fold();

COMMIT;
