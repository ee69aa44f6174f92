-- Revert pgmetrics:function_fold_events from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.fold_events(boolean);

CREATE OR REPLACE FUNCTION pgmetrics.fold_events()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_route_events bigint;
    v_operation_events bigint;
BEGIN
    /*
     * Each statement deletes the pending events it sees and adds them, summed per key and hour with the histogram
     * of their durations, to the hourly tier in key order; the daily triggers follow. An event row is deleted once,
     * so a concurrent fold cannot count it twice, and the move is one transaction, so a reader sees an event either
     * pending or folded. Folds queue on an advisory lock (ingest_batch only tries it), so they do not wait on each
     * other's rows. Rows are locked as every writer locks them: route hours, route days, operation hours, operation
     * days.
     */
    -- The lock key is the text 'pgmetrics.fold_events' hashed once, a constant.
    PERFORM pg_catalog.pg_advisory_xact_lock(4622547330170361171);

    WITH e AS (
        DELETE FROM pgmetrics.route_events RETURNING route, method, period_start, success, duration_ms, at
    ),
    folded AS (
        INSERT INTO pgmetrics.route_metrics AS m (
            route, method, period_start, period_end, total_requests, successful, failed,
            total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
        )
        SELECT
            e.route, e.method, e.period_start, e.period_start + INTERVAL '1 hour', pg_catalog.count(*),
            pg_catalog.count(*) FILTER (WHERE e.success), pg_catalog.count(*) FILTER (WHERE NOT e.success),
            pg_catalog.sum(e.duration_ms), pg_catalog.min(e.duration_ms), pg_catalog.max(e.duration_ms),
            pg_catalog.max(e.at), pg_catalog.count(*) FILTER (WHERE e.duration_ms = 0),
            pgmetrics._histogram_of(pg_catalog.array_agg(e.duration_ms))
        FROM e
        GROUP BY e.route, e.method, e.period_start
        ORDER BY 1, 2, 3
        ON CONFLICT ON CONSTRAINT route_metrics_pkey DO UPDATE SET
            total_requests = m.total_requests + excluded.total_requests,
            successful = m.successful + excluded.successful,
            failed = m.failed + excluded.failed,
            total_duration_ms = m.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms = LEAST(m.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms = GREATEST(m.max_duration_ms, excluded.max_duration_ms),
            last_request_at = GREATEST(m.last_request_at, excluded.last_request_at),
            zero_count = m.zero_count + excluded.zero_count,
            duration_histogram = pgmetrics._histogram_merge(m.duration_histogram, excluded.duration_histogram),
            updated_at = pg_catalog.now()
        RETURNING m.total_requests
    )
    SELECT (SELECT pg_catalog.count(*) FROM e) INTO v_route_events;

    WITH e AS (
        DELETE FROM pgmetrics.operation_events RETURNING operation, period_start, success, duration_ms, at
    ),
    folded AS (
        INSERT INTO pgmetrics.operation_metrics AS m (
            operation, period_start, period_end, total_executions, successful, failed,
            total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram
        )
        SELECT
            e.operation, e.period_start, e.period_start + INTERVAL '1 hour', pg_catalog.count(*),
            pg_catalog.count(*) FILTER (WHERE e.success), pg_catalog.count(*) FILTER (WHERE NOT e.success),
            pg_catalog.sum(e.duration_ms), pg_catalog.min(e.duration_ms), pg_catalog.max(e.duration_ms),
            pg_catalog.max(e.at), pg_catalog.count(*) FILTER (WHERE e.duration_ms = 0),
            pgmetrics._histogram_of(pg_catalog.array_agg(e.duration_ms))
        FROM e
        GROUP BY e.operation, e.period_start
        ORDER BY 1, 2
        ON CONFLICT ON CONSTRAINT operation_metrics_pkey DO UPDATE SET
            total_executions = m.total_executions + excluded.total_executions,
            successful = m.successful + excluded.successful,
            failed = m.failed + excluded.failed,
            total_duration_ms = m.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms = LEAST(m.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms = GREATEST(m.max_duration_ms, excluded.max_duration_ms),
            last_execution_at = GREATEST(m.last_execution_at, excluded.last_execution_at),
            zero_count = m.zero_count + excluded.zero_count,
            duration_histogram = pgmetrics._histogram_merge(m.duration_histogram, excluded.duration_histogram),
            updated_at = pg_catalog.now()
        RETURNING m.total_executions
    )
    SELECT (SELECT pg_catalog.count(*) FROM e) INTO v_operation_events;

    RETURN pg_catalog.jsonb_build_object(
        'route_events_folded', v_route_events, 'operation_events_folded', v_operation_events
    );
END
$$;

COMMENT ON FUNCTION pgmetrics.fold_events() IS
'Moves every pending event of route_events and operation_events into the hourly tier (and through its triggers the '
'daily tier), summed per key and UTC hour, in one transaction; returns jsonb {"route_events_folded": n, '
'"operation_events_folded": n}. Waits for a fold running concurrently, then folds what is left; idempotent, and '
'concurrent folds never count an event twice. Called by ingest_batch (when no other fold runs), run_retention and '
'the pg_cron job of schedule_fold; for pgmetrics_writer and the schema owner. Raises nothing of its own.';

REVOKE ALL ON FUNCTION pgmetrics.fold_events() FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.fold_events() TO pgmetrics_writer;

COMMIT;
