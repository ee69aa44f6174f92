-- Revert pgmetrics:function_record_route_metric from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz);

COMMIT;
