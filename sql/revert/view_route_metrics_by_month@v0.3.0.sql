-- Revert pgmetrics:view_route_metrics_by_month from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP VIEW pgmetrics.route_metrics_by_month;

COMMIT;
