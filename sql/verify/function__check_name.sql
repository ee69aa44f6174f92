-- Verify pgmetrics:function__check_name on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._check_name(text, text)'::regprocedure
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT 1 / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics._check_name(text, text)', 'EXECUTE'))::int;

ROLLBACK;
