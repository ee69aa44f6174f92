-- Revert pgmetrics:function__histogram_quantile from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_quantile(int[], bigint, double precision, double precision, double precision);

COMMIT;
