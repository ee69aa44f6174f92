-- Verify pgmetrics:function__operation_metrics_summary on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._operation_metrics_summary(timestamptz, timestamptz, text, text, text)'::regprocedure
    AND NOT prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics._operation_metrics_summary(timestamptz, timestamptz, text, text, text)', 'EXECUTE'
        )
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'pgmetrics_reader',
            'pgmetrics._operation_metrics_summary(timestamptz, timestamptz, text, text, text)',
            'EXECUTE'
        )
    )::int;

ROLLBACK;
