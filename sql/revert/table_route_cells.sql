-- Revert pgmetrics:table_route_cells from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.route_cells;

COMMIT;
