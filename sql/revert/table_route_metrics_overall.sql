-- Revert pgmetrics:table_route_metrics_overall from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.route_metrics_overall;

COMMIT;
