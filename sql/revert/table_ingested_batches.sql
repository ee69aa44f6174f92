-- Revert pgmetrics:table_ingested_batches from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.ingested_batches;

COMMIT;
