-- Deploy pgmetrics:role_pgmetrics_reader to pg
-- The role that calls the summary functions and reads the views.

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Roles are cluster-wide: another database of the same cluster may have created it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgmetrics_reader') THEN
        CREATE ROLE pgmetrics_reader NOLOGIN;
    END IF;
END
$$;

COMMIT;
