-- Verify pgmetrics:function_run_retention on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.run_retention(timestamptz)'::regprocedure
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp', 'jit=off'];
SELECT 1 / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics.run_retention(timestamptz)', 'EXECUTE'))::int;

ROLLBACK;
