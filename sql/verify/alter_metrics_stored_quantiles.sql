-- Verify pgmetrics:alter_metrics_stored_quantiles on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / (pg_catalog.count(*) = 2)::int
FROM pg_catalog.pg_attribute AS a
WHERE
    a.attrelid IN ('pgmetrics.route_metrics'::regclass, 'pgmetrics.operation_metrics'::regclass)
    AND a.attname = 'duration_quantiles' AND a.attgenerated = '';

ROLLBACK;
