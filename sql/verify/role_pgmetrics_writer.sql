-- Verify pgmetrics:role_pgmetrics_writer on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*) FROM pg_catalog.pg_roles
WHERE rolname = 'pgmetrics_writer';

ROLLBACK;
