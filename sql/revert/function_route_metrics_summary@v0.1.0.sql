-- Revert pgmetrics:function_route_metrics_summary from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.route_metrics_summary(timestamptz, timestamptz, text, text, text, text);

COMMIT;
