-- Revert pgmetrics:function_operation_duration_histogram from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.operation_duration_histogram(timestamptz, timestamptz, text);

COMMIT;
