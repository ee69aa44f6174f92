-- Revert pgmetrics:function__histogram_merge from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_merge(int[], int[]);

COMMIT;
