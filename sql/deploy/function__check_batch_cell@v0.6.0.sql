-- Deploy pgmetrics:function__check_batch_cell to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._check_batch_cell(cell jsonb)
RETURNS void
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_field text;
    v_value jsonb;
    v_hour timestamptz;
    v_last timestamptz;
    v_sum double precision;
    v_min double precision;
    v_max double precision;
    v_index bigint;
    v_element jsonb;
    v_histogram_total numeric;
BEGIN
    IF pg_catalog.jsonb_typeof(_check_batch_cell.cell) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'a cell must be a JSON object, got %', pg_catalog.left(_check_batch_cell.cell::text, 40)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    /* Counts are matched as text so that 1.0, 1e3 or a value past bigint never reach a cast. */
    FOREACH v_field IN ARRAY ARRAY['n', 's', 'f'] LOOP
        v_value := _check_batch_cell.cell -> v_field;
        IF pg_catalog.jsonb_typeof(v_value) IS DISTINCT FROM 'number'
            OR (v_value #>> '{}') !~ '^[0-9]{1,18}$' THEN
            RAISE EXCEPTION '% must be an integer >= 0, got %', v_field, COALESCE(v_value::text, 'nothing')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF (_check_batch_cell.cell ->> 'n')::bigint
        <> (_check_batch_cell.cell ->> 's')::bigint + (_check_batch_cell.cell ->> 'f')::bigint THEN
        RAISE EXCEPTION 'n must equal s + f, got n = %, s = %, f = %',
            _check_batch_cell.cell -> 'n', _check_batch_cell.cell -> 's', _check_batch_cell.cell -> 'f'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (_check_batch_cell.cell ->> 'n')::bigint = 0 THEN
        RAISE EXCEPTION 'n must be > 0' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- JSON numbers cannot be NaN or infinite; one too large for double precision fails the cast (22003).
    FOREACH v_field IN ARRAY ARRAY['d', 'lo', 'hi'] LOOP
        v_value := _check_batch_cell.cell -> v_field;
        IF pg_catalog.jsonb_typeof(v_value) IS DISTINCT FROM 'number' OR (v_value #>> '{}')::double precision < 0 THEN
            RAISE EXCEPTION '% must be a number >= 0, got %', v_field, COALESCE(v_value::text, 'nothing')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    v_sum := (_check_batch_cell.cell ->> 'd')::double precision;
    v_min := (_check_batch_cell.cell ->> 'lo')::double precision;
    v_max := (_check_batch_cell.cell ->> 'hi')::double precision;
    IF v_min > v_max THEN
        RAISE EXCEPTION 'lo must be <= hi, got lo = %, hi = %', v_min, v_max
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_sum < v_min THEN
        RAISE EXCEPTION 'd must be >= lo, got d = %, lo = %', v_sum, v_min
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The durations' histogram (docs/HISTOGRAM.md): integers bucket * 2^15 + count, with zero_count apart.
    v_value := _check_batch_cell.cell -> 'zero_count';
    IF pg_catalog.jsonb_typeof(v_value) IS DISTINCT FROM 'number' OR (v_value #>> '{}') !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION 'zero_count must be an integer >= 0, got %', COALESCE(v_value::text, 'nothing')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_value := _check_batch_cell.cell -> 'histogram';
    IF pg_catalog.jsonb_typeof(v_value) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'histogram must be a JSON array of packed integers, got %',
            COALESCE(pg_catalog.left(v_value::text, 40), 'nothing')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT x.i - 1, x.e
    INTO v_index, v_element
    FROM pg_catalog.jsonb_array_elements(v_value) WITH ORDINALITY AS x (e, i)
    WHERE pg_catalog.jsonb_typeof(x.e) <> 'number' OR (x.e #>> '{}') !~ '^-?[0-9]{1,10}$'
        OR (x.e #>> '{}')::numeric NOT BETWEEN -2147483648 AND 2147483647
    ORDER BY x.i
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'histogram[%] must be an integer bucket * 2^15 + count, got %', v_index, v_element
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT
        pg_catalog.sum(x.e & 32767),
        pg_catalog.min(x.i - 1) FILTER (
            WHERE (x.e >> 15) NOT BETWEEN -37220 AND 35488 OR (x.e & 32767) = 0
        )
    INTO v_histogram_total, v_index
    FROM pg_catalog.jsonb_array_elements_text(v_value) WITH ORDINALITY AS y (t, i),
        LATERAL (SELECT y.t::int AS e, y.i) AS x;
    IF v_index IS NOT NULL THEN
        RAISE EXCEPTION 'histogram[%] must hold a bucket from -37220 to 35488 and a count > 0, got %',
            v_index, v_value -> v_index::int
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF COALESCE(v_histogram_total, 0) + (_check_batch_cell.cell ->> 'zero_count')::numeric
        <> (_check_batch_cell.cell ->> 'n')::numeric THEN
        RAISE EXCEPTION 'the histogram counts plus zero_count must equal n, got % + % and n = %',
            COALESCE(v_histogram_total, 0), _check_batch_cell.cell -> 'zero_count', _check_batch_cell.cell -> 'n'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Zeros and positive durations must agree with the extremes, or the percentiles would contradict min and max.
    IF (_check_batch_cell.cell ->> 'zero_count')::bigint > 0 AND v_min > 0 THEN
        RAISE EXCEPTION 'zero_count must be 0 when lo > 0, got zero_count = %, lo = %',
            _check_batch_cell.cell -> 'zero_count', v_min
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF COALESCE(v_histogram_total, 0) > 0 AND v_max = 0 THEN
        RAISE EXCEPTION 'histogram must be empty when hi = 0' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH v_field IN ARRAY ARRAY['h', 't'] LOOP
        IF pg_catalog.jsonb_typeof(_check_batch_cell.cell -> v_field) IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION '% must be a timestamp string, got %', v_field,
                COALESCE((_check_batch_cell.cell -> v_field)::text, 'nothing')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    v_hour := (_check_batch_cell.cell ->> 'h')::timestamptz;
    IF NOT pg_catalog.isfinite(v_hour) OR v_hour <> pg_catalog.date_trunc('hour', v_hour, 'UTC') THEN
        RAISE EXCEPTION 'h must be the start of a UTC hour, got %', _check_batch_cell.cell ->> 'h'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_last := (_check_batch_cell.cell ->> 't')::timestamptz;
    IF NOT pg_catalog.isfinite(v_last) THEN
        RAISE EXCEPTION 't must be a finite timestamp, got %', _check_batch_cell.cell ->> 't'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- As for the recording functions: outside these years a daily bucket's end is out of range.
    IF v_hour < '0001-01-01 00:00:00+00' OR v_hour >= '10000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION 'h must be between 0001-01-01 and 9999-12-31 UTC, got %', _check_batch_cell.cell ->> 'h'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_last < '0001-01-01 00:00:00+00' OR v_last >= '10000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION 't must be between 0001-01-01 and 9999-12-31 UTC, got %', _check_batch_cell.cell ->> 't'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

COMMENT ON FUNCTION pgmetrics._check_batch_cell(jsonb) IS
'Checks the counts, durations and times of one cell of a pgmetrics.ingest_batch batch: n, s, f integers with '
'n = s + f > 0; d, lo, hi numbers >= 0 with lo <= hi and d >= lo; histogram an array of packed integers (bucket '
'from -37220 to 35488, count > 0) whose counts and the integer zero_count add up to n, with zero_count 0 when '
'lo > 0 and no count in histogram when hi = 0; h the start of a UTC hour; t finite. '
'Raises 22023 naming the field (22003 or 22007 for a number or time that cannot be read).';

REVOKE ALL ON FUNCTION pgmetrics._check_batch_cell(jsonb) FROM public;

COMMIT;
