-- Verify pgmetrics:function__histogram_difference on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._histogram_difference(int[], int[])'::regprocedure
    AND provolatile = 'i'
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics._histogram_difference(int[], int[])', 'EXECUTE'
        )
    )::int;
SELECT
    1
    / (
        pgmetrics._histogram_difference('{2}', '{1}') = '{1}'
        AND pgmetrics._histogram_difference('{1}', '{1}') = '{}'
    )::int;

ROLLBACK;
