-- Verify pgmetrics:type_route_cell on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / pg_catalog.count(*)::int
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = 'pgmetrics.route_cell'::regclass AND a.attname = 'duration_histogram';

ROLLBACK;
