-- Revert pgmetrics:function__fold_events from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The earlier fold keeps every hour in the rollups: roll up the hours the watermark has not passed yet.
SELECT pgmetrics._fold_events(TRUE, 'infinity');

DROP FUNCTION pgmetrics._fold_events(boolean, timestamptz);

COMMIT;
