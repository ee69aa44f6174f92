-- Revert pgmetrics:function_route_duration_histogram from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.route_duration_histogram(timestamptz, timestamptz, text, text);

COMMIT;
