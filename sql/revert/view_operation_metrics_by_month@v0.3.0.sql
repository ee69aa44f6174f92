-- Revert pgmetrics:view_operation_metrics_by_month from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP VIEW pgmetrics.operation_metrics_by_month;

COMMIT;
