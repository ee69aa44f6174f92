-- Revert pgmetrics:table_operation_cells from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.operation_cells;

COMMIT;
