-- Verify pgmetrics:table_settings on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (count(*) = 3)::int
FROM pgmetrics.settings
WHERE name IN ('retention_days', 'summary_retention_days', 'batch_retention_days');

ROLLBACK;
