-- Deploy pgmetrics:function__histogram_add to pg
-- requires: function__histogram_bucket

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_add(histogram int[], duration_ms double precision)
RETURNS int[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_count_mask CONSTANT int := 32767;
    v_histogram int[] := COALESCE(_histogram_add.histogram, '{}');
    v_key int;
    v_low int;
    v_high int;
    v_middle int;
BEGIN
    IF _histogram_add.duration_ms IS NULL THEN
        RAISE EXCEPTION 'duration_ms must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT (_histogram_add.duration_ms >= 0 AND _histogram_add.duration_ms < 'Infinity') THEN
        RAISE EXCEPTION 'duration_ms must be finite and >= 0, got %', _histogram_add.duration_ms
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    /* Zero durations live in the row's zero_count, outside the array. */
    IF _histogram_add.duration_ms = 0 THEN
        RETURN v_histogram;
    END IF;
    v_key := pgmetrics._histogram_bucket(_histogram_add.duration_ms);

    -- Binary search for the first element whose key is >= v_key (elements ascend, and so do their keys).
    v_low := COALESCE(pg_catalog.array_lower(v_histogram, 1), 1);
    v_high := COALESCE(pg_catalog.array_upper(v_histogram, 1), 0) + 1;
    WHILE v_low < v_high LOOP
        v_middle := (v_low + v_high) / 2;
        IF (v_histogram[v_middle] >> 15) < v_key THEN
            v_low := v_middle + 1;
        ELSE
            v_high := v_middle;
        END IF;
    END LOOP;

    -- The first element of a bucket holds the remainder; when it is full too, a new one goes before it.
    IF (v_histogram[v_low] >> 15) = v_key AND (v_histogram[v_low] & c_count_mask) < c_count_mask THEN
        v_histogram[v_low] := v_histogram[v_low] + 1;
        RETURN v_histogram;
    END IF;
    RETURN v_histogram[:v_low - 1] || ((v_key << 15) | 1) || v_histogram[v_low:];
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_add(int[], double precision) IS
'Returns histogram (NULL is empty; canonical as pgmetrics._histogram_pack makes it) with one more duration_ms '
'counted in its bucket. A zero duration returns histogram unchanged: the caller counts it in zero_count. Raises '
'22004 for a NULL duration and 22023 for one that is negative, NaN or infinite.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_add(int[], double precision) FROM public;

COMMIT;
