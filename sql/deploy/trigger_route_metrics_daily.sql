-- Deploy pgmetrics:trigger_route_metrics_daily to pg
-- requires: function_fold_events

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The fold keeps the rollups: no trigger merges a histogram on a write of the hourly tier any more.
DROP TRIGGER route_metrics_daily_update ON pgmetrics.route_metrics;
DROP TRIGGER route_metrics_daily_insert ON pgmetrics.route_metrics;

COMMIT;
