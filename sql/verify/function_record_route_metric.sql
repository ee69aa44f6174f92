-- Verify pgmetrics:function_record_route_metric on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz)'::regprocedure
    AND prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / pg_catalog.has_function_privilege(
        'pgmetrics_writer',
        'pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz)',
        'EXECUTE'
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz)', 'EXECUTE'
        )
    )::int;

ROLLBACK;
