-- Deploy pgmetrics:type_operation_cell to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Only writers build cells, for ingest_batch; a type is usable by PUBLIC unless revoked.
REVOKE USAGE ON TYPE pgmetrics.operation_cell FROM public;
GRANT USAGE ON TYPE pgmetrics.operation_cell TO pgmetrics_writer;

COMMIT;
