-- Deploy pgmetrics:drop_daily_tier to pg
-- requires: view_route_metrics_by_day
-- requires: view_route_metrics_by_week
-- requires: view_operation_metrics_by_day
-- requires: view_operation_metrics_by_week
-- requires: function_fold_events
-- requires: function_run_retention
-- requires: function_report_status
-- requires: function__route_metrics_summary
-- requires: function__operation_metrics_summary
-- requires: function_route_duration_quantile
-- requires: function_operation_duration_quantile

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The day rollup holds every daily row (table_*_metrics_rollup copied them) and fold_events keeps it current: the
-- triggers that merged histograms on every write of the hourly tier go, and the daily tables with them.
DROP TRIGGER route_metrics_daily_update ON pgmetrics.route_metrics;
DROP TRIGGER route_metrics_daily_insert ON pgmetrics.route_metrics;
DROP TRIGGER operation_metrics_daily_update ON pgmetrics.operation_metrics;
DROP TRIGGER operation_metrics_daily_insert ON pgmetrics.operation_metrics;
DROP FUNCTION pgmetrics._route_metrics_daily_apply();
DROP FUNCTION pgmetrics._operation_metrics_daily_apply();
DROP TABLE pgmetrics.route_metrics_daily;
DROP TABLE pgmetrics.operation_metrics_daily;

COMMIT;
