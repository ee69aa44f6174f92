-- Revert pgmetrics:type_operation_cell from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TYPE pgmetrics.operation_cell;

COMMIT;
