-- Verify pgmetrics:aggregate__histogram_merge_agg on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_aggregate
WHERE
    aggfnoid = 'pgmetrics._histogram_merge_agg(int[])'::regprocedure
    AND aggtransfn = 'pgmetrics._histogram_merge_agg_step(int[], int[])'::regprocedure
    AND aggcombinefn = 'pgmetrics._histogram_merge_agg_step(int[], int[])'::regprocedure
    AND aggfinalfn = 'pgmetrics._histogram_merge_agg_final(int[])'::regprocedure;
SELECT
    1
    / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics._histogram_merge_agg(int[])', 'EXECUTE'))::int;
SELECT 1 / (pgmetrics._histogram_merge_agg(h) = '{3}')::int
FROM (VALUES ('{1}'::int[]), ('{2}'), (NULL)) AS t (h);

ROLLBACK;
