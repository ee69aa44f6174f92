-- Verify pgmetrics:table_report_zones on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    zone,
    added_at
FROM pgmetrics.report_zones
WHERE FALSE;

SELECT 1 / c.relrowsecurity::int FROM pg_catalog.pg_class AS c
WHERE c.oid = 'pgmetrics.report_zones'::regclass;

ROLLBACK;
