-- Deploy pgmetrics:function__histogram_add to pg
-- requires: function__histogram_bucket

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_add(histogram bigint[], duration_ms double precision)
RETURNS bigint[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_count_mask CONSTANT bigint := 70368744177663;
    v_histogram bigint[] := COALESCE(_histogram_add.histogram, '{}');
    v_key bigint;
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

    -- Binary search for the first element whose key is >= v_key (elements are sorted by key).
    v_low := COALESCE(pg_catalog.array_lower(v_histogram, 1), 1);
    v_high := COALESCE(pg_catalog.array_upper(v_histogram, 1), 0) + 1;
    WHILE v_low < v_high LOOP
        v_middle := (v_low + v_high) / 2;
        IF (v_histogram[v_middle] >> 46) < v_key THEN
            v_low := v_middle + 1;
        ELSE
            v_high := v_middle;
        END IF;
    END LOOP;

    IF (v_histogram[v_low] >> 46) = v_key THEN
        IF (v_histogram[v_low] & c_count_mask) = c_count_mask THEN
            RAISE EXCEPTION 'histogram bucket count exceeds %', c_count_mask
                USING ERRCODE = 'numeric_value_out_of_range';
        END IF;
        v_histogram[v_low] := v_histogram[v_low] + 1;
        RETURN v_histogram;
    END IF;
    RETURN v_histogram[:v_low - 1] || ((v_key << 46) | 1) || v_histogram[v_low:];
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_add(bigint[], double precision) IS
'Returns histogram (NULL is empty; elements key * 2^46 + count, keys ascending) with one more duration_ms counted '
'in its bucket. A zero duration returns histogram unchanged: the caller counts it in zero_count. Raises 22004 for '
'a NULL duration, 22023 for one that is negative, NaN or infinite and 22003 when a bucket count would exceed '
'2^46 - 1.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_add(bigint[], double precision) FROM public;

COMMIT;
