-- Revert pgmetrics:function__check_batch_cell from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._check_batch_cell(jsonb);

COMMIT;
