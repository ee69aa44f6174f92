-- Verify pgmetrics:type_operation_cell on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / pg_catalog.count(*)::int
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = 'pgmetrics.operation_cell'::regclass AND a.attname = 'duration_histogram';
SELECT 1 / pg_catalog.has_type_privilege('pgmetrics_writer', 'pgmetrics.operation_cell', 'USAGE')::int;
SELECT 1 / (NOT pg_catalog.has_type_privilege('public', 'pgmetrics.operation_cell', 'USAGE'))::int;

ROLLBACK;
