-- Deploy pgmetrics:function__histogram_bucket to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_bucket(duration_ms double precision)
RETURNS int
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_ln_gamma CONSTANT double precision := 0.020000666706669435;
    c_one_52 CONSTANT bigint := 4503599627370496;
    v_x double precision;
    v_n int;
    v_bits bigint;
    v_mantissa bigint;
    v_exponent int;
    v_value_m double precision;
    v_m double precision := 1;
    v_e int := 0;
    v_sm double precision;
    v_se int;
    v_k int;
BEGIN
    /* NaN sorts above every number in PostgreSQL, so the upper bound rejects it too. */
    IF NOT (_histogram_bucket.duration_ms > 0 AND _histogram_bucket.duration_ms < 'Infinity') THEN
        RAISE EXCEPTION 'duration_ms must be finite and > 0, got %', _histogram_bucket.duration_ms
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    /* The logarithm is within 1e-9 buckets of the truth: trusted away from an integer (docs/HISTOGRAM.md). */
    v_x := pg_catalog.ln(_histogram_bucket.duration_ms) / c_ln_gamma;
    v_n := pg_catalog.ceil(v_x);
    IF v_n - v_x > 1e-6 AND v_x - (v_n - 1) > 1e-6 THEN
        RETURN v_n;
    END IF;

    /* Near a boundary the answer is round(x) or the next bucket: compare exactly with B(round(x)). */
    v_n := pg_catalog.round(v_x);

    -- The value as mantissa in [1, 2) and binary exponent, from its IEEE bits (subnormals normalised).
    v_bits := ('x' || pg_catalog.encode(pg_catalog.float8send(_histogram_bucket.duration_ms), 'hex'))::bit(64)::bigint;
    v_exponent := (v_bits >> 52)::int;
    v_mantissa := v_bits & (c_one_52 - 1);
    IF v_exponent = 0 THEN
        v_exponent := 1;
        WHILE v_mantissa < c_one_52 LOOP
            v_mantissa := v_mantissa * 2;
            v_exponent := v_exponent - 1;
        END LOOP;
    ELSE
        v_mantissa := v_mantissa + c_one_52;
    END IF;
    v_value_m := v_mantissa::double precision / c_one_52::double precision;
    v_exponent := v_exponent - 1023;

    -- B(n) = v_m * 2^v_e by binary exponentiation: each product is one IEEE multiplication, then exact halving.
    IF v_n >= 0 THEN
        v_sm := 1.01::double precision / 0.99::double precision;
        v_se := 0;
    ELSE
        v_sm := 2 * (0.99::double precision / 1.01::double precision);
        v_se := -1;
    END IF;
    v_k := pg_catalog.abs(v_n);
    WHILE v_k > 0 LOOP
        IF (v_k & 1) = 1 THEN
            v_m := v_m * v_sm;
            v_e := v_e + v_se;
            IF v_m >= 2 THEN
                v_m := v_m * 0.5;
                v_e := v_e + 1;
            END IF;
        END IF;
        v_k := v_k >> 1;
        IF v_k > 0 THEN
            v_sm := v_sm * v_sm;
            v_se := v_se * 2;
            IF v_sm >= 2 THEN
                v_sm := v_sm * 0.5;
                v_se := v_se + 1;
            END IF;
        END IF;
    END LOOP;

    IF v_exponent < v_e OR (v_exponent = v_e AND v_value_m <= v_m) THEN
        RETURN v_n;
    END IF;
    RETURN v_n + 1;
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_bucket(double precision) IS
'Returns the histogram bucket of a duration > 0: the least n with duration_ms <= B(n), B(n) being g^n '
'(g = 1.01 / 0.99) computed as specified in docs/HISTOGRAM.md, so bucket n holds (g^(n-1), g^n]. '
'Identical to pgmetrics.histogram.bucket_index in Python. NULL for NULL; raises 22023 for a duration that is '
'not finite and > 0.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_bucket(double precision) FROM public;

COMMIT;
