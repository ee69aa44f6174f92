-- Verify pgmetrics:function_fold_events on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.fold_events(boolean)'::regprocedure
    AND prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT 1 / pg_catalog.has_function_privilege('pgmetrics_writer', 'pgmetrics.fold_events(boolean)', 'EXECUTE')::int;
SELECT 1 / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics.fold_events(boolean)', 'EXECUTE'))::int;

ROLLBACK;
