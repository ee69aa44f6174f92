-- Deploy pgmetrics:table_route_metrics_daily to pg
-- requires: function__route_metrics_daily_apply
-- requires: table_route_metrics_rollup
-- requires: view_route_metrics_by_day
-- requires: view_route_metrics_by_week
-- requires: function_run_retention
-- requires: function_report_status
-- requires: function__route_metrics_summary
-- requires: function_route_duration_quantile

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Its rows are the day rollup's (table_route_metrics_rollup copied them), which the fold keeps current.
DROP TABLE pgmetrics.route_metrics_daily;

COMMIT;
