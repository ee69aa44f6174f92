-- Revert pgmetrics:type_route_cell from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TYPE pgmetrics.route_cell;

COMMIT;
