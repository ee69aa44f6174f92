-- Revert pgmetrics:function_ingest_batch from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb);

COMMIT;
