-- Verify pgmetrics:function__histogram_add on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._histogram_add(int[], double precision)'::regprocedure
    AND provolatile = 'i'
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics._histogram_add(int[], double precision)', 'EXECUTE'
        )
    )::int;
SELECT 1 / (pgmetrics._histogram_add(NULL, 1) = '{1}')::int;

ROLLBACK;
