-- Verify pgmetrics:function__histogram_quantiles on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = pg_catalog.to_regprocedure(
        'pgmetrics._histogram_quantiles(int[], bigint, double precision[], double precision, double precision)'
    )
    AND provolatile = 'i'
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public',
            'pgmetrics._histogram_quantiles(int[], bigint, double precision[], double precision, double precision)',
            'EXECUTE'
        )
    )::int;
SELECT 1 / (pgmetrics._histogram_quantiles('{1}', 0, '{0.5}', 1, 1) = '{1}')::int;

ROLLBACK;
