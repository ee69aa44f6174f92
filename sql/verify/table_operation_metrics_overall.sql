-- Verify pgmetrics:table_operation_metrics_overall on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    grain,
    period_start,
    total_executions,
    successful,
    failed,
    total_duration_ms,
    min_duration_ms,
    max_duration_ms,
    last_execution_at,
    zero_count,
    duration_histogram,
    duration_quantiles,
    updated_at
FROM pgmetrics.operation_metrics_overall
WHERE FALSE;

ROLLBACK;
