-- Revert pgmetrics:table_rollup_watermark from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.rollup_watermark;

COMMIT;
