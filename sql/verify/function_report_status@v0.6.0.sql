-- Verify pgmetrics:function_report_status on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.report_status()'::regprocedure
    AND prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT 1 / pg_catalog.has_function_privilege('pgmetrics_reader', 'pgmetrics.report_status()', 'EXECUTE')::int;

ROLLBACK;
