-- Revert pgmetrics:function_ingest_batch from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb);
DROP FUNCTION pgmetrics.ingest_batch(uuid, pgmetrics.route_cell[], pgmetrics.operation_cell[]);

CREATE FUNCTION pgmetrics.ingest_batch(
    batch_id uuid,
    routes pgmetrics.route_cell[],
    operations pgmetrics.operation_cell[]
)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text text;
    v_index bigint;
    v_message text;
    v_inserted bigint;
    v_cell_route pgmetrics.route_cell;
    v_cell_operation pgmetrics.operation_cell;
BEGIN
    /*
     * The write path appends, as COPY would: the cells are checked set-based, then added to route_cells and
     * operation_cells without reading or merging a stored row. fold_events merges them into the tiers later; the
     * summaries count them at once. Every cell is checked before anything is written, so a rejected batch writes
     * nothing.
     */
    IF ingest_batch.batch_id IS NULL THEN
        RAISE EXCEPTION 'batch_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;

    -- Methods are few per batch: each distinct one is checked once, the first cell holding a bad one reported.
    FOR v_text IN SELECT DISTINCT c.method FROM pg_catalog.unnest(ingest_batch.routes) AS c LOOP
        BEGIN
            PERFORM pgmetrics._check_method(v_text);
        EXCEPTION WHEN data_exception THEN
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
            SELECT pg_catalog.min(c.i) - 1 INTO v_index
            FROM pg_catalog.unnest(ingest_batch.routes) WITH ORDINALITY AS c (
                route, method, period_start, total_requests, successful, total_duration_ms, min_duration_ms,
                max_duration_ms, last_request_at, zero_count, duration_histogram, i
            )
            WHERE c.method IS NOT DISTINCT FROM v_text;
            RAISE EXCEPTION 'routes[%]: %', v_index, v_message USING ERRCODE = 'invalid_parameter_value';
        END;
    END LOOP;
    -- One set-based pass finds the first cell breaking a rule; _check_cell then names the rule.
    SELECT c.i - 1 INTO v_index
    FROM pg_catalog.unnest(ingest_batch.routes) WITH ORDINALITY AS c (
        route, method, period_start, total_requests, successful, total_duration_ms, min_duration_ms,
        max_duration_ms, last_request_at, zero_count, duration_histogram, i
    )
    CROSS JOIN LATERAL (
        SELECT
            pg_catalog.sum(e & 32767) AS counted, pg_catalog.count(*) AS elements, pg_catalog.count(e) AS known,
            pg_catalog.min(e & 32767) AS least_count, pg_catalog.min(e >> 15) AS low, pg_catalog.max(e >> 15) AS high
        FROM pg_catalog.unnest(c.duration_histogram) AS e
    ) AS h
    WHERE (
        pg_catalog.length(c.route) BETWEEN 1 AND 1024
        AND pg_catalog.isfinite(c.period_start)
        AND c.period_start = pg_catalog.date_trunc('hour', c.period_start, 'UTC')
        AND c.period_start >= '0001-01-01 00:00:00+00' AND c.period_start < '10000-01-01 00:00:00+00'
        AND c.total_requests >= 1 AND c.successful BETWEEN 0 AND c.total_requests
        AND c.total_duration_ms >= c.min_duration_ms AND c.total_duration_ms < 'Infinity'
        AND c.min_duration_ms >= 0 AND c.max_duration_ms >= c.min_duration_ms AND c.max_duration_ms < 'Infinity'
        AND pg_catalog.isfinite(c.last_request_at)
        AND c.last_request_at >= '0001-01-01 00:00:00+00' AND c.last_request_at < '10000-01-01 00:00:00+00'
        AND c.zero_count BETWEEN 0 AND c.total_requests AND (c.zero_count = 0 OR c.min_duration_ms = 0)
        AND h.known = h.elements AND COALESCE(h.counted, 0) + c.zero_count = c.total_requests
        AND (h.elements = 0 OR (h.least_count > 0 AND h.low >= -37220 AND h.high <= 35488 AND c.max_duration_ms > 0))
    ) IS NOT TRUE
    ORDER BY c.i
    LIMIT 1;
    IF FOUND THEN
        v_cell_route := ingest_batch.routes[v_index + 1];
        BEGIN
            PERFORM pgmetrics._check_name('route', v_cell_route.route);
            PERFORM pgmetrics._check_cell(
                v_cell_route.period_start, v_cell_route.total_requests, v_cell_route.successful,
                v_cell_route.total_duration_ms, v_cell_route.min_duration_ms, v_cell_route.max_duration_ms,
                v_cell_route.last_request_at, v_cell_route.zero_count, v_cell_route.duration_histogram,
                'total_requests', 'last_request_at'
            );
        EXCEPTION WHEN data_exception THEN
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
            RAISE EXCEPTION 'routes[%]: %', v_index, v_message USING ERRCODE = 'invalid_parameter_value';
        END;
    END IF;

    -- One set-based pass finds the first cell breaking a rule; _check_cell then names the rule.
    SELECT c.i - 1 INTO v_index
    FROM pg_catalog.unnest(ingest_batch.operations) WITH ORDINALITY AS c (
        operation, period_start, total_executions, successful, total_duration_ms, min_duration_ms,
        max_duration_ms, last_execution_at, zero_count, duration_histogram, i
    )
    CROSS JOIN LATERAL (
        SELECT
            pg_catalog.sum(e & 32767) AS counted, pg_catalog.count(*) AS elements, pg_catalog.count(e) AS known,
            pg_catalog.min(e & 32767) AS least_count, pg_catalog.min(e >> 15) AS low, pg_catalog.max(e >> 15) AS high
        FROM pg_catalog.unnest(c.duration_histogram) AS e
    ) AS h
    WHERE (
        pg_catalog.length(c.operation) BETWEEN 1 AND 1024
        AND pg_catalog.isfinite(c.period_start)
        AND c.period_start = pg_catalog.date_trunc('hour', c.period_start, 'UTC')
        AND c.period_start >= '0001-01-01 00:00:00+00' AND c.period_start < '10000-01-01 00:00:00+00'
        AND c.total_executions >= 1 AND c.successful BETWEEN 0 AND c.total_executions
        AND c.total_duration_ms >= c.min_duration_ms AND c.total_duration_ms < 'Infinity'
        AND c.min_duration_ms >= 0 AND c.max_duration_ms >= c.min_duration_ms AND c.max_duration_ms < 'Infinity'
        AND pg_catalog.isfinite(c.last_execution_at)
        AND c.last_execution_at >= '0001-01-01 00:00:00+00' AND c.last_execution_at < '10000-01-01 00:00:00+00'
        AND c.zero_count BETWEEN 0 AND c.total_executions AND (c.zero_count = 0 OR c.min_duration_ms = 0)
        AND h.known = h.elements AND COALESCE(h.counted, 0) + c.zero_count = c.total_executions
        AND (h.elements = 0 OR (h.least_count > 0 AND h.low >= -37220 AND h.high <= 35488 AND c.max_duration_ms > 0))
    ) IS NOT TRUE
    ORDER BY c.i
    LIMIT 1;
    IF FOUND THEN
        v_cell_operation := ingest_batch.operations[v_index + 1];
        BEGIN
            PERFORM pgmetrics._check_name('operation', v_cell_operation.operation);
            PERFORM pgmetrics._check_cell(
                v_cell_operation.period_start, v_cell_operation.total_executions, v_cell_operation.successful,
                v_cell_operation.total_duration_ms, v_cell_operation.min_duration_ms, v_cell_operation.max_duration_ms,
                v_cell_operation.last_execution_at, v_cell_operation.zero_count, v_cell_operation.duration_histogram,
                'total_executions', 'last_execution_at'
            );
        EXCEPTION WHEN data_exception THEN
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
            RAISE EXCEPTION 'operations[%]: %', v_index, v_message USING ERRCODE = 'invalid_parameter_value';
        END;
    END IF;

    -- A batch id seen before (committed, or being committed by a concurrent call) is acknowledged, not applied.
    INSERT INTO pgmetrics.ingested_batches (batch_id, route_cells, operation_cells)
    VALUES (
        ingest_batch.batch_id, COALESCE(pg_catalog.cardinality(ingest_batch.routes), 0),
        COALESCE(pg_catalog.cardinality(ingest_batch.operations), 0)
    )
    ON CONFLICT ON CONSTRAINT ingested_batches_pkey DO NOTHING;
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_inserted = 0 THEN
        RETURN FALSE;
    END IF;

    INSERT INTO pgmetrics.route_cells (
        route, method, period_start, total_requests, successful, total_duration_ms, min_duration_ms,
        max_duration_ms, last_request_at, zero_count, duration_histogram
    )
    SELECT
        c.route, pg_catalog.upper(c.method), c.period_start, c.total_requests, c.successful, c.total_duration_ms,
        c.min_duration_ms, c.max_duration_ms, c.last_request_at, c.zero_count, c.duration_histogram
    FROM pg_catalog.unnest(ingest_batch.routes) AS c;

    INSERT INTO pgmetrics.operation_cells (
        operation, period_start, total_executions, successful, total_duration_ms, min_duration_ms,
        max_duration_ms, last_execution_at, zero_count, duration_histogram
    )
    SELECT
        c.operation, c.period_start, c.total_executions, c.successful, c.total_duration_ms,
        c.min_duration_ms, c.max_duration_ms, c.last_execution_at, c.zero_count, c.duration_histogram
    FROM pg_catalog.unnest(ingest_batch.operations) AS c;

    RETURN TRUE;
END
$$;

COMMENT ON FUNCTION pgmetrics.ingest_batch(uuid, pgmetrics.route_cell[], pgmetrics.operation_cell[]) IS
'Applies a batch of pre-aggregated cells exactly once: routes and operations are arrays (or NULL) of '
'pgmetrics.route_cell and pgmetrics.operation_cell, one per key and UTC hour (several cells of one key and hour '
'add up). The cells are checked, then staged in route_cells and operation_cells, which the summaries count at once '
'and fold_events merges into the hourly tier and the rollups. Returns true when the batch was applied and false when '
'batch_id had been applied before (nothing changes). Raises 22004 for a NULL batch_id and 22023 for a bad cell, '
'naming the array, the cell index (from 0) and the field; a rejected batch writes nothing. This is the fast form '
'(binary arrays from the Python client); docs/WIRE.md shows it from psql.';

REVOKE ALL ON FUNCTION pgmetrics.ingest_batch(uuid, pgmetrics.route_cell[], pgmetrics.operation_cell[]) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.ingest_batch(
    uuid, pgmetrics.route_cell[], pgmetrics.operation_cell[]
) TO pgmetrics_writer;

CREATE FUNCTION pgmetrics.ingest_batch(batch_id uuid, routes jsonb, operations jsonb)
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
    v_route_cells pgmetrics.route_cell [];
    v_operation_cells pgmetrics.operation_cell [];
BEGIN
    /* The JSON form, for callers without typed arrays: each cell's JSON is checked, then converted to the typed
       cells of the fast form, which stages them. */
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

    SELECT pg_catalog.array_agg(
        ROW(
            b.r, b.m, b.h, b.n, b.s, b.d, b.lo, b.hi, b.t, b.zero_count,
            ARRAY(SELECT x::int FROM pg_catalog.jsonb_array_elements_text(b.histogram) AS x)
        )::pgmetrics.route_cell
        ORDER BY b.i
    )
    INTO v_route_cells
    FROM ROWS FROM (
        pg_catalog.jsonb_to_recordset(v_routes) AS (
            r text, m text, h timestamptz, n bigint, s bigint, d double precision, lo double precision,
            hi double precision, t timestamptz, zero_count bigint, histogram jsonb
        )
    ) WITH ORDINALITY AS b (r, m, h, n, s, d, lo, hi, t, zero_count, histogram, i);
    SELECT pg_catalog.array_agg(
        ROW(
            b.o, b.h, b.n, b.s, b.d, b.lo, b.hi, b.t, b.zero_count,
            ARRAY(SELECT x::int FROM pg_catalog.jsonb_array_elements_text(b.histogram) AS x)
        )::pgmetrics.operation_cell
        ORDER BY b.i
    )
    INTO v_operation_cells
    FROM ROWS FROM (
        pg_catalog.jsonb_to_recordset(v_operations) AS (
            o text, h timestamptz, n bigint, s bigint, d double precision, lo double precision,
            hi double precision, t timestamptz, zero_count bigint, histogram jsonb
        )
    ) WITH ORDINALITY AS b (o, h, n, s, d, lo, hi, t, zero_count, histogram, i);
    RETURN pgmetrics.ingest_batch(ingest_batch.batch_id, v_route_cells, v_operation_cells);
END
$$;

COMMENT ON FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb) IS
'The JSON form of ingest_batch, for callers without typed arrays (slower: docs/WIRE.md has the figures). routes and '
'operations are JSON arrays (or NULL) of cells {"r": route, "m": method} or {"o": operation}, each with "h" (UTC hour '
'start), "n" total, "s" successful, "f" failed, "d" sum, "lo" min, "hi" max of duration_ms, "t" (last event time), '
'"histogram" (JSON array of packed integers bucket * 2^15 + count, docs/HISTOGRAM.md) and "zero_count"; cells of '
'the same key and hour add up. Returns true when the batch was applied and false when batch_id had been applied '
'before (nothing changes). Raises 22004 for a NULL batch_id and 22023 for a bad argument or cell, naming the array, '
'the cell index (from 0) and the field; a rejected batch writes nothing.';

REVOKE ALL ON FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb) TO pgmetrics_writer;

COMMIT;
