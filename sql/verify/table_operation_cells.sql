-- Verify pgmetrics:table_operation_cells on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    operation,
    period_start,
    total_executions,
    successful,
    total_duration_ms,
    min_duration_ms,
    max_duration_ms,
    last_execution_at,
    zero_count,
    duration_histogram
FROM pgmetrics.operation_cells
WHERE FALSE;

SELECT 1 / c.relrowsecurity::int FROM pg_catalog.pg_class AS c
WHERE c.oid = 'pgmetrics.operation_cells'::regclass;

ROLLBACK;
