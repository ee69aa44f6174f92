-- Verify pgmetrics:function_operation_metrics_summary on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.operation_metrics_summary(timestamptz, timestamptz, text, text, text)'::regprocedure
    AND prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / pg_catalog.has_function_privilege(
        'pgmetrics_reader',
        'pgmetrics.operation_metrics_summary(timestamptz, timestamptz, text, text, text)',
        'EXECUTE'
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'pgmetrics_writer',
            'pgmetrics.operation_metrics_summary(timestamptz, timestamptz, text, text, text)',
            'EXECUTE'
        )
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics.operation_metrics_summary(timestamptz, timestamptz, text, text, text)', 'EXECUTE'
        )
    )::int;

ROLLBACK;
