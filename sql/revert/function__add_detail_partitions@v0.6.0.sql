-- Revert pgmetrics:function__add_detail_partitions from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._add_detail_partitions(timestamptz[]);

COMMIT;
