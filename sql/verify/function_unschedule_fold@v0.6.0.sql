-- Verify pgmetrics:function_unschedule_fold on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.unschedule_fold()'::regprocedure
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT 1 / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics.unschedule_fold()', 'EXECUTE'))::int;

ROLLBACK;
