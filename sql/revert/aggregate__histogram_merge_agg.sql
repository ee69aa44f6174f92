-- Revert pgmetrics:aggregate__histogram_merge_agg from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP AGGREGATE pgmetrics._histogram_merge_agg(int[]);

COMMIT;
