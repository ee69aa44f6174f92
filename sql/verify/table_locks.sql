-- Verify pgmetrics:table_locks on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.count(*) = 2)::int FROM pgmetrics.locks;

ROLLBACK;
