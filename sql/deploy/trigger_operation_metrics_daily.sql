-- Deploy pgmetrics:trigger_operation_metrics_daily to pg
-- requires: function_fold_events

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The fold keeps the rollups: no trigger merges a histogram on a write of the hourly tier any more.
DROP TRIGGER operation_metrics_daily_update ON pgmetrics.operation_metrics;
DROP TRIGGER operation_metrics_daily_insert ON pgmetrics.operation_metrics;

COMMIT;
