-- Revert pgmetrics:function__histogram_difference from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_difference(int[], int[]);

COMMIT;
