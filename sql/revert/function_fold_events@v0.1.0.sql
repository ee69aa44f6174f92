-- Revert pgmetrics:function_fold_events from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.fold_events();

COMMIT;
