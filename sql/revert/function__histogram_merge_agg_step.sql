-- Revert pgmetrics:function__histogram_merge_agg_step from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._histogram_merge_agg_step(int[], int[]);

COMMIT;
