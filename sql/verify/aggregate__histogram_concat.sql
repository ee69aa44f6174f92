-- Verify pgmetrics:aggregate__histogram_concat on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_aggregate
WHERE
    aggfnoid = 'pgmetrics._histogram_concat(int[])'::regprocedure
    AND aggtransfn = 'pg_catalog.array_cat(anycompatiblearray, anycompatiblearray)'::regprocedure;
SELECT
    1
    / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics._histogram_concat(int[])', 'EXECUTE'))::int;
SELECT 1 / pg_catalog.has_function_privilege('pgmetrics_reader', 'pgmetrics._histogram_concat(int[])', 'EXECUTE')::int;
SELECT 1 / (pgmetrics._histogram_concat(h) = '{32769, 65537, 32770}')::int
FROM (VALUES ('{32769, 65537}'::int[]), (NULL), ('{32770}')) AS t (h);

ROLLBACK;
