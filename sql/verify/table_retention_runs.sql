-- Verify pgmetrics:table_retention_runs on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    started_at,
    finished_at,
    result
FROM pgmetrics.retention_runs
WHERE FALSE;

ROLLBACK;
