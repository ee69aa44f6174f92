-- Revert pgmetrics:aggregate__histogram_concat from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP AGGREGATE pgmetrics._histogram_concat(int[]);

COMMIT;
