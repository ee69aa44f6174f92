-- Revert pgmetrics:table_locks from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.locks;

COMMIT;
