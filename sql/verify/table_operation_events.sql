-- Verify pgmetrics:table_operation_events on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    operation,
    period_start,
    success,
    duration_ms,
    at
FROM pgmetrics.operation_events
WHERE FALSE;

SELECT 1 / c.relrowsecurity::int FROM pg_catalog.pg_class AS c
WHERE c.oid = 'pgmetrics.operation_events'::regclass;

ROLLBACK;
