-- Verify pgmetrics:trigger_route_metrics_daily on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Two statement-level AFTER triggers with transition tables, on INSERT and on UPDATE, none on DELETE.
SELECT 1 / (count(*) = 2)::int
FROM pg_catalog.pg_trigger
WHERE
    tgrelid = 'pgmetrics.route_metrics'::regclass
    AND tgfoid = 'pgmetrics._route_metrics_daily_apply()'::regprocedure
    AND tgname IN ('route_metrics_daily_insert', 'route_metrics_daily_update')
    AND tgnewtable = 'new_rows'
    AND tgenabled = 'O';

ROLLBACK;
