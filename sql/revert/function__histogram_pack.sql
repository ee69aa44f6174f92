-- Revert pgmetrics:function__histogram_pack from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_pack(int[], bigint[]);

COMMIT;
