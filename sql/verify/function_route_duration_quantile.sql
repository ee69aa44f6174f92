-- Verify pgmetrics:function_route_duration_quantile on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = pg_catalog.to_regprocedure(
        'pgmetrics.route_duration_quantile(double precision, timestamptz, timestamptz, text, text)'
    )
    AND prosecdef
    AND proconfig @> ARRAY[
        'search_path=pg_catalog, pg_temp', 'TimeZone=UTC', 'DateStyle=ISO, YMD', 'IntervalStyle=postgres'
    ];
SELECT
    1
    / pg_catalog.has_function_privilege(
        'pgmetrics_reader',
        'pgmetrics.route_duration_quantile(double precision, timestamptz, timestamptz, text, text)',
        'EXECUTE'
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public',
            'pgmetrics.route_duration_quantile(double precision, timestamptz, timestamptz, text, text)',
            'EXECUTE'
        )
    )::int;

ROLLBACK;
