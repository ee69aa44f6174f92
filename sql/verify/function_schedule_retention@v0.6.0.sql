-- Verify pgmetrics:function_schedule_retention on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.schedule_retention(text)'::regprocedure
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT 1 / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics.schedule_retention(text)', 'EXECUTE'))::int;

ROLLBACK;
