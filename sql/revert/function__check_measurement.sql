-- Revert pgmetrics:function__check_measurement from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._check_measurement(boolean, double precision, timestamptz);

COMMIT;
