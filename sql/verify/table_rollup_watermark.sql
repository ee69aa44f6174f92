-- Verify pgmetrics:table_rollup_watermark on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.count(*) = 1)::int FROM pgmetrics.rollup_watermark
WHERE one AND rolled_until IS NOT NULL;

ROLLBACK;
