-- Revert pgmetrics:function__histogram_quantiles from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_quantiles(int[], bigint, double precision[], double precision, double precision);

COMMIT;
