-- Revert pgmetrics:schema_pgmetrics from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP SCHEMA pgmetrics;

COMMIT;
