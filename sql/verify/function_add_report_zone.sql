-- Verify pgmetrics:function_add_report_zone on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / pg_catalog.count(*)::int
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.add_report_zone(text)'::regprocedure
    AND NOT prosecdef
    AND proconfig = ARRAY[
        'search_path=pg_catalog, pg_temp', 'TimeZone=UTC', 'DateStyle=ISO, YMD', 'IntervalStyle=postgres'
    ];
SELECT 1 / (
    NOT pg_catalog.has_function_privilege('pgmetrics_writer', 'pgmetrics.add_report_zone(text)', 'EXECUTE')
)::int;

ROLLBACK;
