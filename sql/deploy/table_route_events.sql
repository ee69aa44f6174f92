-- Deploy pgmetrics:table_route_events to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * Append-only and index-free: record_route_metric adds one row per call and never updates one, so concurrent
 * calls on the same key do not wait for each other. Logged, so a committed call survives a crash. fold_events
 * moves the rows into the hourly tier; until then the summary functions add them on the fly.
 */
CREATE TABLE pgmetrics.route_events (
    route text NOT NULL,
    method text NOT NULL,
    period_start timestamptz NOT NULL,
    success boolean NOT NULL,
    duration_ms double precision NOT NULL,
    at timestamptz NOT NULL
);

ALTER TABLE pgmetrics.route_events ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.route_events FROM public;

COMMENT ON TABLE pgmetrics.route_events IS
'Pending route events: one row per record_route_metric call (route template and HTTP method, UTC hour, success, '
'duration, time), not yet folded into the hourly tier by fold_events.';

COMMIT;
