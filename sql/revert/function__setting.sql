-- Revert pgmetrics:function__setting from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._setting(text);

COMMIT;
