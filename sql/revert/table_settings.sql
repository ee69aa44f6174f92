-- Revert pgmetrics:table_settings from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.settings;

COMMIT;
