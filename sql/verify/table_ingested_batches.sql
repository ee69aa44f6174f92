-- Verify pgmetrics:table_ingested_batches on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    batch_id,
    ingested_at,
    route_cells,
    operation_cells
FROM pgmetrics.ingested_batches
WHERE FALSE;

SELECT 1 / c.relrowsecurity::int FROM pg_catalog.pg_class AS c
WHERE c.oid = 'pgmetrics.ingested_batches'::regclass;

ROLLBACK;
