-- Deploy pgmetrics:role_pgmetrics_writer to pg
-- The role that calls the recording functions.

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Roles are cluster-wide: another database of the same cluster may have created it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgmetrics_writer') THEN
        CREATE ROLE pgmetrics_writer NOLOGIN;
    END IF;
END
$$;

COMMIT;
