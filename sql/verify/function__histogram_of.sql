-- Verify pgmetrics:function__histogram_of on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._histogram_of(double precision[])'::regprocedure
    AND provolatile = 'i'
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege('public', 'pgmetrics._histogram_of(double precision[])', 'EXECUTE')
    )::int;
SELECT 1 / (pgmetrics._histogram_of('{0, 1, 1}') = ARRAY[2])::int;

ROLLBACK;
