-- Revert pgmetrics:type_operation_cell from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

GRANT USAGE ON TYPE pgmetrics.operation_cell TO public;

COMMIT;
