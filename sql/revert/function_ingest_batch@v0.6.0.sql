-- Revert pgmetrics:function_ingest_batch from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.ingest_batch(uuid, pgmetrics.route_cell[], pgmetrics.operation_cell[]);

CREATE OR REPLACE FUNCTION pgmetrics.ingest_batch(batch_id uuid, routes jsonb, operations jsonb)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
-- Times without an offset are read as UTC, whatever the caller's TimeZone.
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
    v_routes jsonb := COALESCE(ingest_batch.routes, '[]'::jsonb);
    v_operations jsonb := COALESCE(ingest_batch.operations, '[]'::jsonb);
    v_array text;
    v_index bigint;
    v_cell jsonb;
    v_message text;
    v_inserted bigint;
    v_fold boolean;
BEGIN
    IF ingest_batch.batch_id IS NULL THEN
        RAISE EXCEPTION 'batch_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF v_routes = 'null'::jsonb THEN
        v_routes := '[]'::jsonb;
    END IF;
    IF v_operations = 'null'::jsonb THEN
        v_operations := '[]'::jsonb;
    END IF;
    IF pg_catalog.jsonb_typeof(v_routes) <> 'array' THEN
        RAISE EXCEPTION 'routes must be a JSON array or NULL, got a JSON %', pg_catalog.jsonb_typeof(v_routes)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.jsonb_typeof(v_operations) <> 'array' THEN
        RAISE EXCEPTION 'operations must be a JSON array or NULL, got a JSON %', pg_catalog.jsonb_typeof(v_operations)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    /* Every cell is checked before anything is written, so a rejected batch writes nothing. The checks name
       the field; the handler adds which cell it was, and reports every bad cell as 22023. */
    BEGIN
        v_array := 'routes';
        FOR v_cell, v_index IN
            SELECT e.value, e.ordinality - 1 FROM pg_catalog.jsonb_array_elements(v_routes) WITH ORDINALITY AS e
        LOOP
            PERFORM pgmetrics._check_batch_cell(v_cell);
            IF pg_catalog.jsonb_typeof(v_cell -> 'r') IS DISTINCT FROM 'string' THEN
                RAISE EXCEPTION 'r must be a string' USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM pgmetrics._check_name('r', v_cell ->> 'r');
            IF pg_catalog.jsonb_typeof(v_cell -> 'm') IS DISTINCT FROM 'string' THEN
                RAISE EXCEPTION 'm must be a string' USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM pgmetrics._check_method(v_cell ->> 'm');
        END LOOP;
        v_array := 'operations';
        FOR v_cell, v_index IN
            SELECT e.value, e.ordinality - 1 FROM pg_catalog.jsonb_array_elements(v_operations) WITH ORDINALITY AS e
        LOOP
            PERFORM pgmetrics._check_batch_cell(v_cell);
            IF pg_catalog.jsonb_typeof(v_cell -> 'o') IS DISTINCT FROM 'string' THEN
                RAISE EXCEPTION 'o must be a string' USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM pgmetrics._check_name('o', v_cell ->> 'o');
        END LOOP;
    EXCEPTION WHEN data_exception THEN
        GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
        RAISE EXCEPTION '%[%]: %', v_array, v_index, v_message USING ERRCODE = 'invalid_parameter_value';
    END;

    -- A batch id seen before (committed, or being committed by a concurrent call) is acknowledged, not applied.
    INSERT INTO pgmetrics.ingested_batches (batch_id, route_cells, operation_cells)
    VALUES (
        ingest_batch.batch_id, pg_catalog.jsonb_array_length(v_routes), pg_catalog.jsonb_array_length(v_operations)
    )
    ON CONFLICT ON CONSTRAINT ingested_batches_pkey DO NOTHING;
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_inserted = 0 THEN
        RETURN FALSE;
    END IF;

    /*
     * When no other fold runs, the pending events of route_events and operation_events are folded in with the
     * batch: deleted and added in the same statements, so the flush never waits for a fold and the events are
     * counted once. Rows are written in key order, routes before operations, so concurrent batches and folds lock
     * rows in the same order and cannot deadlock. Cells of the same key and hour within the batch are summed first.
     * The lock key is the one of fold_events.
     */
    v_fold := pg_catalog.pg_try_advisory_xact_lock(4622547330170361171);

    /*
     * Histograms are summed per key, hour and bucket over the batch's elements and the events' buckets, then
     * packed once per key and hour and merged into the stored row's histogram.
     */
    WITH e AS (
        DELETE FROM pgmetrics.route_events AS x WHERE v_fold
        RETURNING x.route, x.method, x.period_start, x.success, x.duration_ms, x.at
    ),
    b AS (
        SELECT
            b.r, pg_catalog.upper(b.m) AS m, b.h, b.n, b.s, b.f, b.d, b.lo, b.hi, b.t, b.zero_count, b.histogram
        FROM pg_catalog.jsonb_to_recordset(v_routes) AS b (
            r text, m text, h timestamptz, n bigint, s bigint, f bigint, d double precision, lo double precision,
            hi double precision, t timestamptz, zero_count bigint, histogram jsonb
        )
    ),
    c AS (
        SELECT b.r, b.m, b.h, b.n, b.s, b.f, b.d, b.lo, b.hi, b.t, b.zero_count FROM b
        UNION ALL
        SELECT
            e.route, e.method, e.period_start, 1, e.success::int, (NOT e.success)::int, e.duration_ms,
            e.duration_ms, e.duration_ms, e.at, (e.duration_ms = 0)::int
        FROM e
    ),
    buckets AS (
        SELECT k.r, k.m, k.h, k.element >> 15 AS bucket, pg_catalog.sum(k.element & 32767)::bigint AS bucket_count
        FROM (
            SELECT b.r, b.m, b.h, x.t::int AS element
            FROM b CROSS JOIN LATERAL pg_catalog.jsonb_array_elements_text(b.histogram) AS x (t)
            UNION ALL
            SELECT e.route, e.method, e.period_start, (pgmetrics._histogram_bucket(e.duration_ms) << 15) | 1
            FROM e
            WHERE e.duration_ms > 0
        ) AS k
        GROUP BY 1, 2, 3, 4
    ),
    histograms AS (
        SELECT
            k.r, k.m, k.h,
            pgmetrics._histogram_pack(pg_catalog.array_agg(k.bucket), pg_catalog.array_agg(k.bucket_count)) AS histogram
        FROM buckets AS k
        GROUP BY 1, 2, 3
    )
    INSERT INTO pgmetrics.route_metrics AS m (
        route, method, period_start, period_end, total_requests, successful, failed,
        total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
    )
    SELECT
        a.r, a.m, a.h, a.h + INTERVAL '1 hour', a.n, a.s, a.f, a.d, a.lo, a.hi, a.t, a.zero_count,
        COALESCE(k.histogram, '{}')
    FROM (
        SELECT
            c.r, c.m, c.h, pg_catalog.sum(c.n)::bigint AS n, pg_catalog.sum(c.s)::bigint AS s,
            pg_catalog.sum(c.f)::bigint AS f, pg_catalog.sum(c.d) AS d, pg_catalog.min(c.lo) AS lo,
            pg_catalog.max(c.hi) AS hi, pg_catalog.max(c.t) AS t, pg_catalog.sum(c.zero_count)::bigint AS zero_count
        FROM c
        GROUP BY c.r, c.m, c.h
    ) AS a
    LEFT JOIN histograms AS k ON k.r = a.r AND k.m = a.m AND k.h = a.h
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
        updated_at = pg_catalog.now();

    WITH e AS (
        DELETE FROM pgmetrics.operation_events AS x WHERE v_fold
        RETURNING x.operation, x.period_start, x.success, x.duration_ms, x.at
    ),
    b AS (
        SELECT b.o, b.h, b.n, b.s, b.f, b.d, b.lo, b.hi, b.t, b.zero_count, b.histogram
        FROM pg_catalog.jsonb_to_recordset(v_operations) AS b (
            o text, h timestamptz, n bigint, s bigint, f bigint, d double precision, lo double precision,
            hi double precision, t timestamptz, zero_count bigint, histogram jsonb
        )
    ),
    c AS (
        SELECT b.o, b.h, b.n, b.s, b.f, b.d, b.lo, b.hi, b.t, b.zero_count FROM b
        UNION ALL
        SELECT
            e.operation, e.period_start, 1, e.success::int, (NOT e.success)::int, e.duration_ms,
            e.duration_ms, e.duration_ms, e.at, (e.duration_ms = 0)::int
        FROM e
    ),
    buckets AS (
        SELECT k.o, k.h, k.element >> 15 AS bucket, pg_catalog.sum(k.element & 32767)::bigint AS bucket_count
        FROM (
            SELECT b.o, b.h, x.t::int AS element
            FROM b CROSS JOIN LATERAL pg_catalog.jsonb_array_elements_text(b.histogram) AS x (t)
            UNION ALL
            SELECT e.operation, e.period_start, (pgmetrics._histogram_bucket(e.duration_ms) << 15) | 1
            FROM e
            WHERE e.duration_ms > 0
        ) AS k
        GROUP BY 1, 2, 3
    ),
    histograms AS (
        SELECT
            k.o, k.h,
            pgmetrics._histogram_pack(pg_catalog.array_agg(k.bucket), pg_catalog.array_agg(k.bucket_count)) AS histogram
        FROM buckets AS k
        GROUP BY 1, 2
    )
    INSERT INTO pgmetrics.operation_metrics AS m (
        operation, period_start, period_end, total_executions, successful, failed,
        total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram
    )
    SELECT
        a.o, a.h, a.h + INTERVAL '1 hour', a.n, a.s, a.f, a.d, a.lo, a.hi, a.t, a.zero_count,
        COALESCE(k.histogram, '{}')
    FROM (
        SELECT
            c.o, c.h, pg_catalog.sum(c.n)::bigint AS n, pg_catalog.sum(c.s)::bigint AS s,
            pg_catalog.sum(c.f)::bigint AS f, pg_catalog.sum(c.d) AS d, pg_catalog.min(c.lo) AS lo,
            pg_catalog.max(c.hi) AS hi, pg_catalog.max(c.t) AS t, pg_catalog.sum(c.zero_count)::bigint AS zero_count
        FROM c
        GROUP BY c.o, c.h
    ) AS a
    LEFT JOIN histograms AS k ON k.o = a.o AND k.h = a.h
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
        updated_at = pg_catalog.now();

    RETURN TRUE;
END
$$;

COMMENT ON FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb) IS
'Adds a batch of pre-aggregated cells to the hourly tables in one transaction, exactly once. routes and operations '
'are JSON arrays (or NULL) of cells {"r": route, "m": method} or {"o": operation}, each with "h" (UTC hour start), '
'"n" total, "s" successful, "f" failed, "d" sum, "lo" min, "hi" max of duration_ms, "t" (last event time), '
'"histogram" (JSON array of packed integers bucket * 2^15 + count, docs/HISTOGRAM.md) and "zero_count"; cells '
'of the same key and hour are summed. When no other fold holds its lock, the pending events of the direct recording '
'functions are folded in the same statements (see fold_events). Returns true when the batch was applied and false '
'when batch_id had been applied before (nothing changes). Raises 22004 for a NULL batch_id and 22023 for a bad '
'argument or cell, naming the array, the cell index (from 0) and the field; a rejected batch writes nothing.';

REVOKE ALL ON FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb) TO pgmetrics_writer;

COMMIT;
