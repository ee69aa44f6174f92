-- Verify pgmetrics:table_operation_metrics_daily on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    operation,
    period_start,
    period_end,
    total_executions,
    successful,
    failed,
    total_duration_ms,
    min_duration_ms,
    max_duration_ms,
    last_execution_at,
    created_at,
    updated_at
FROM pgmetrics.operation_metrics_daily
WHERE FALSE;

SELECT 1 / c.relrowsecurity::int FROM pg_catalog.pg_class AS c
WHERE c.oid = 'pgmetrics.operation_metrics_daily'::regclass;
SELECT 1 / (NOT pg_catalog.has_table_privilege('pgmetrics_reader', 'pgmetrics.operation_metrics_daily', 'SELECT'))::int;

ROLLBACK;
