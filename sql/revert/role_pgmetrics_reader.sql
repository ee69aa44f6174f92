-- Revert pgmetrics:role_pgmetrics_reader from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Another database of the cluster may still grant to the role: keep it then.
DO $$
BEGIN
    DROP ROLE IF EXISTS pgmetrics_reader;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'role pgmetrics_reader is still used in another database of this cluster: kept';
END
$$;

COMMIT;
