-- Verify pgmetrics:function__route_metrics_daily_apply on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._route_metrics_daily_apply()'::regprocedure
    AND prosecdef
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT 1 / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics._route_metrics_daily_apply()', 'EXECUTE'))::int;

ROLLBACK;
