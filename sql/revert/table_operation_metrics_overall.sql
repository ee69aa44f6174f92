-- Revert pgmetrics:table_operation_metrics_overall from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.operation_metrics_overall;

COMMIT;
