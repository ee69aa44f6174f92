-- Deploy pgmetrics:schema_pgmetrics to pg
-- requires: role_pgmetrics_writer
-- requires: role_pgmetrics_reader

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE SCHEMA pgmetrics;

COMMENT ON SCHEMA pgmetrics IS
'Persistent route and operation metrics. Tables are reached only through the functions and views of this schema.';

REVOKE ALL ON SCHEMA pgmetrics FROM public;
GRANT USAGE ON SCHEMA pgmetrics TO pgmetrics_writer, pgmetrics_reader;

COMMIT;
