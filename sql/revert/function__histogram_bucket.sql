-- Revert pgmetrics:function__histogram_bucket from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_bucket(double precision);

COMMIT;
