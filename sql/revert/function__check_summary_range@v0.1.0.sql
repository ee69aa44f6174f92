-- Revert pgmetrics:function__check_summary_range from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._check_summary_range(timestamptz, timestamptz, text, text);

COMMIT;
