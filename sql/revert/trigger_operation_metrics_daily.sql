-- Revert pgmetrics:trigger_operation_metrics_daily from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Writers wait until the triggers exist and the days already recorded are summed, so no row escapes the daily tier.
LOCK TABLE pgmetrics.operation_metrics IN SHARE ROW EXCLUSIVE MODE;

-- PostgreSQL allows transition tables on single-event triggers only: one trigger per event. An upsert
-- (INSERT ... ON CONFLICT DO UPDATE) fires both. DELETE has none: the daily tier outlives expired hourly rows.
CREATE TRIGGER operation_metrics_daily_insert
AFTER INSERT ON pgmetrics.operation_metrics
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION pgmetrics._operation_metrics_daily_apply();

CREATE TRIGGER operation_metrics_daily_update
AFTER UPDATE ON pgmetrics.operation_metrics
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION pgmetrics._operation_metrics_daily_apply();

-- Hourly rows recorded before the daily tier existed; days already summed are left as they are.
INSERT INTO pgmetrics.operation_metrics_daily (
    operation, period_start, period_end, total_executions, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram
)
SELECT
    h.operation,
    pg_catalog.date_trunc('day', h.period_start, 'UTC') AS period_start,
    pg_catalog.date_trunc('day', h.period_start, 'UTC') + interval '24 hours' AS period_end,
    pg_catalog.sum(h.total_executions) AS total_executions,
    pg_catalog.sum(h.successful) AS successful,
    pg_catalog.sum(h.failed) AS failed,
    pg_catalog.sum(h.total_duration_ms) AS total_duration_ms,
    pg_catalog.min(h.min_duration_ms) AS min_duration_ms,
    pg_catalog.max(h.max_duration_ms) AS max_duration_ms,
    pg_catalog.max(h.last_execution_at) AS last_execution_at,
    pg_catalog.sum(h.zero_count) AS zero_count,
    pgmetrics._histogram_merge_agg(h.duration_histogram) AS duration_histogram
FROM pgmetrics.operation_metrics AS h
GROUP BY 1, 2
ORDER BY 1, 2
ON CONFLICT ON CONSTRAINT operation_metrics_daily_pkey DO NOTHING;

COMMIT;
