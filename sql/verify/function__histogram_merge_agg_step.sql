-- Verify pgmetrics:function__histogram_merge_agg_step on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._histogram_merge_agg_step(int[], int[])'::regprocedure
    AND provolatile = 'i'
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics._histogram_merge_agg_step(int[], int[])', 'EXECUTE'
        )
    )::int;

ROLLBACK;
