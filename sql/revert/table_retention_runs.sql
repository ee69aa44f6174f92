-- Revert pgmetrics:table_retention_runs from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.retention_runs;

COMMIT;
