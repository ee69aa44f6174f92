-- Revert pgmetrics:table_operation_events from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.operation_events;

COMMIT;
