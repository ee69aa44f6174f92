-- Verify pgmetrics:schema_pgmetrics on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*) FROM pg_catalog.pg_namespace
WHERE nspname = 'pgmetrics';
SELECT 1 / pg_catalog.has_schema_privilege('pgmetrics_writer', 'pgmetrics', 'USAGE')::int;
SELECT 1 / pg_catalog.has_schema_privilege('pgmetrics_reader', 'pgmetrics', 'USAGE')::int;
SELECT 1 / (NOT pg_catalog.has_schema_privilege('public', 'pgmetrics', 'USAGE'))::int;

ROLLBACK;
