-- Revert pgmetrics:function__histogram_add from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_add(int[], double precision);

COMMIT;
