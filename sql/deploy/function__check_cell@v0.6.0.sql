-- Deploy pgmetrics:function__check_cell to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._check_cell(
    period_start timestamptz,
    total bigint,
    successful bigint,
    total_duration_ms double precision,
    min_duration_ms double precision,
    max_duration_ms double precision,
    last_at timestamptz,
    zero_count bigint,
    duration_histogram int[],
    total_field text,
    last_field text
)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_histogram_total numeric;
    v_index bigint;
BEGIN
    /*
     * ingest_batch finds the first bad cell of a batch set-based; this names what is wrong with it, field by field.
     * NaN sorts above every number in PostgreSQL, so "< 'Infinity'" rejects it too.
     */
    IF _check_cell.period_start IS NULL THEN
        RAISE EXCEPTION 'period_start must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(_check_cell.period_start)
        OR _check_cell.period_start <> pg_catalog.date_trunc('hour', _check_cell.period_start, 'UTC') THEN
        RAISE EXCEPTION 'period_start must be the start of a UTC hour, got %', _check_cell.period_start
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- As for the recording functions: outside these years a rollup period's end is out of range.
    IF _check_cell.period_start < '0001-01-01 00:00:00+00'
        OR _check_cell.period_start >= '10000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION 'period_start must be between 0001-01-01 and 9999-12-31 UTC, got %', _check_cell.period_start
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_cell.total IS NULL OR _check_cell.total < 1 THEN
        RAISE EXCEPTION '% must be an integer > 0, got %', _check_cell.total_field,
            COALESCE(_check_cell.total::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_cell.successful IS NULL OR _check_cell.successful NOT BETWEEN 0 AND _check_cell.total THEN
        RAISE EXCEPTION 'successful must be from 0 to %, got %', _check_cell.total_field,
            COALESCE(_check_cell.successful::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (_check_cell.total_duration_ms >= 0 AND _check_cell.total_duration_ms < 'Infinity') THEN
        RAISE EXCEPTION 'total_duration_ms must be a finite number >= 0, got %',
            COALESCE(_check_cell.total_duration_ms::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (_check_cell.min_duration_ms >= 0 AND _check_cell.min_duration_ms < 'Infinity') THEN
        RAISE EXCEPTION 'min_duration_ms must be a finite number >= 0, got %',
            COALESCE(_check_cell.min_duration_ms::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (
        _check_cell.max_duration_ms >= _check_cell.min_duration_ms AND _check_cell.max_duration_ms < 'Infinity'
    ) THEN
        RAISE EXCEPTION 'max_duration_ms must be a finite number >= min_duration_ms, got %',
            COALESCE(_check_cell.max_duration_ms::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_cell.total_duration_ms < _check_cell.min_duration_ms THEN
        RAISE EXCEPTION 'total_duration_ms must be >= min_duration_ms, got % and %',
            _check_cell.total_duration_ms, _check_cell.min_duration_ms
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_cell.last_at IS NULL OR NOT pg_catalog.isfinite(_check_cell.last_at)
        OR _check_cell.last_at < '0001-01-01 00:00:00+00' OR _check_cell.last_at >= '10000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION '% must be a time between 0001-01-01 and 9999-12-31 UTC, got %', _check_cell.last_field,
            COALESCE(_check_cell.last_at::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_cell.zero_count IS NULL OR _check_cell.zero_count NOT BETWEEN 0 AND _check_cell.total THEN
        RAISE EXCEPTION 'zero_count must be from 0 to %, got %', _check_cell.total_field,
            COALESCE(_check_cell.zero_count::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Zeros and positive durations must agree with the extremes, or the percentiles would contradict min and max.
    IF _check_cell.zero_count > 0 AND _check_cell.min_duration_ms > 0 THEN
        RAISE EXCEPTION 'zero_count must be 0 when min_duration_ms > 0, got %', _check_cell.zero_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_cell.duration_histogram IS NULL THEN
        RAISE EXCEPTION 'duration_histogram must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT x.i - 1 INTO v_index
    FROM pg_catalog.unnest(_check_cell.duration_histogram) WITH ORDINALITY AS x (e, i)
    WHERE x.e IS NULL OR (x.e >> 15) NOT BETWEEN -37220 AND 35488 OR (x.e & 32767) = 0
    ORDER BY x.i
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'duration_histogram[%] must hold a bucket from -37220 to 35488 and a count > 0, got %',
            v_index, COALESCE(_check_cell.duration_histogram[v_index + 1]::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT COALESCE(pg_catalog.sum(e & 32767), 0) INTO v_histogram_total
    FROM pg_catalog.unnest(_check_cell.duration_histogram) AS e;
    IF v_histogram_total + _check_cell.zero_count <> _check_cell.total THEN
        RAISE EXCEPTION 'the duration_histogram counts plus zero_count must equal %, got % + % and %',
            _check_cell.total_field, v_histogram_total, _check_cell.zero_count, _check_cell.total
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_histogram_total > 0 AND _check_cell.max_duration_ms = 0 THEN
        RAISE EXCEPTION 'duration_histogram must be empty when max_duration_ms = 0'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

COMMENT ON FUNCTION pgmetrics._check_cell(
    timestamptz, bigint, bigint, double precision, double precision, double precision, timestamptz, bigint, int[],
    text, text
) IS
'Checks the fields of one ingest_batch cell other than its key, raising 22004 or 22023 with a message naming the '
'first field that is wrong (total_field and last_field name the count and last-time fields of the cell''s type). '
'Returns nothing when the cell is valid.';

REVOKE ALL ON FUNCTION pgmetrics._check_cell(
    timestamptz, bigint, bigint, double precision, double precision, double precision, timestamptz, bigint, int[],
    text, text
) FROM public;

COMMIT;
