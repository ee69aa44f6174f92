-- Deploy pgmetrics:function__route_metrics_daily_apply to pg
-- requires: trigger_route_metrics_daily

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._route_metrics_daily_apply();

COMMIT;
