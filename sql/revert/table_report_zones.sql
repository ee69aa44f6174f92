-- Revert pgmetrics:table_report_zones from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.report_zones;

COMMIT;
