-- Deploy pgmetrics:table_operation_events to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * Append-only and index-free: record_operation_metric adds one row per call and never updates one, so concurrent
 * calls on the same key do not wait for each other. Logged, so a committed call survives a crash. fold_events
 * moves the rows into the hourly tier; until then the summary functions add them on the fly.
 */
CREATE TABLE pgmetrics.operation_events (
    operation text NOT NULL,
    period_start timestamptz NOT NULL,
    success boolean NOT NULL,
    duration_ms double precision NOT NULL,
    at timestamptz NOT NULL
);

ALTER TABLE pgmetrics.operation_events ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.operation_events FROM public;

COMMENT ON TABLE pgmetrics.operation_events IS
'Pending operation events: one row per record_operation_metric call (operation name, UTC hour, success, '
'duration, time), not yet folded into the hourly tier by fold_events.';

COMMIT;
