-- Revert pgmetrics:function__check_method from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._check_method(text);

COMMIT;
