-- Revert pgmetrics:trigger_route_metrics_daily from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TRIGGER route_metrics_daily_update ON pgmetrics.route_metrics;
DROP TRIGGER route_metrics_daily_insert ON pgmetrics.route_metrics;

COMMIT;
