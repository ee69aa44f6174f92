-- Verify pgmetrics:function_set_setting on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.set_setting(text, integer)'::regprocedure
    AND proconfig @> ARRAY[
        'search_path=pg_catalog, pg_temp', 'TimeZone=UTC', 'DateStyle=ISO, YMD', 'IntervalStyle=postgres'
    ];
SELECT 1 / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics.set_setting(text, integer)', 'EXECUTE'))::int;

ROLLBACK;
