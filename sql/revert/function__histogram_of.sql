-- Revert pgmetrics:function__histogram_of from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_of(double precision[]);

COMMIT;
