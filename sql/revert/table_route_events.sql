-- Revert pgmetrics:table_route_events from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP TABLE pgmetrics.route_events;

COMMIT;
