-- Revert pgmetrics:type_route_cell from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

GRANT USAGE ON TYPE pgmetrics.route_cell TO public;

COMMIT;
