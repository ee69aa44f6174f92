-- Revert pgmetrics:function_run_retention from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.run_retention(timestamptz);

COMMIT;
