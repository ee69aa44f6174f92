-- Verify pgmetrics:function__histogram_merge on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._histogram_merge(int[], int[])'::regprocedure
    AND provolatile = 'i'
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege('public', 'pgmetrics._histogram_merge(int[], int[])', 'EXECUTE')
    )::int;
SELECT 1 / (pgmetrics._histogram_merge('{1}', '{1}') = '{2}' AND pgmetrics._histogram_merge(NULL, NULL) = '{}')::int;

ROLLBACK;
