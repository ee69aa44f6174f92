-- Deploy pgmetrics:function__histogram_quantile to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_quantile(
    histogram bigint[],
    zero_count bigint,
    q double precision,
    min double precision,
    max double precision
)
RETURNS double precision
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_count_mask CONSTANT bigint := 70368744177663;
    c_ln_gamma CONSTANT double precision := 0.020000666706669435;
    c_ln_midpoint CONSTANT double precision := -0.010050335853501395;
    v_zero_count numeric := COALESCE(_histogram_quantile.zero_count, 0);
    v_total numeric;
    v_rank double precision;
    v_seen numeric;
    v_key bigint;
    v_count numeric;
    v_exponent double precision;
    v_value double precision;
BEGIN
    /* NaN sorts above every number in PostgreSQL, so the upper bound rejects it too. */
    IF _histogram_quantile.q IS NULL OR NOT (_histogram_quantile.q >= 0 AND _histogram_quantile.q <= 1) THEN
        RAISE EXCEPTION 'q must be between 0 and 1, got %', COALESCE(_histogram_quantile.q::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT pg_catalog.sum(e & c_count_mask) INTO v_total FROM pg_catalog.unnest(_histogram_quantile.histogram) AS e;
    v_total := COALESCE(v_total, 0) + v_zero_count;
    IF v_total = 0 THEN
        RETURN NULL;
    END IF;
    IF _histogram_quantile.q = 0 AND _histogram_quantile.min IS NOT NULL THEN
        RETURN _histogram_quantile.min;
    END IF;
    IF _histogram_quantile.q = 1 AND _histogram_quantile.max IS NOT NULL THEN
        RETURN _histogram_quantile.max;
    END IF;

    -- Nearest rank: the zero bucket first, then the keys ascending.
    v_rank := GREATEST(1, pg_catalog.ceil(_histogram_quantile.q * v_total::double precision));
    IF v_rank <= v_zero_count THEN
        v_value := 0;
    ELSE
        v_seen := v_zero_count;
        FOR v_key, v_count IN
            SELECT e >> 46, pg_catalog.sum(e & c_count_mask)
            FROM pg_catalog.unnest(_histogram_quantile.histogram) AS e
            GROUP BY 1
            ORDER BY 1
        LOOP
            v_seen := v_seen + v_count;
            EXIT WHEN v_seen >= v_rank;
        END LOOP;
        -- 2 g^k / (g + 1) as an exponential, held inside the range of normal doubles.
        v_exponent := v_key * c_ln_gamma + c_ln_midpoint;
        IF v_exponent >= 709.782712893384 THEN
            v_value := 1.7976931348623157e308;
        ELSE
            v_value := pg_catalog.exp(GREATEST(v_exponent, -708.3964185322641));
        END IF;
    END IF;
    RETURN LEAST(GREATEST(v_value, _histogram_quantile.min), _histogram_quantile.max);
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_quantile(
    bigint[], bigint, double precision, double precision, double precision
) IS
'Returns the nearest-rank q-quantile (rank max(1, ceil(q * n))) of the durations counted by histogram and '
'zero_count: 0 for a rank in the zero bucket, else the value 2 g^k / (g + 1) of the bucket k holding the rank, '
'clamped to [min, max] (either may be NULL when unknown). q = 0 returns min and q = 1 returns max exactly when '
'they are given; an empty histogram returns NULL. Raises 22023 for a q that is NULL, NaN or outside [0, 1].';

REVOKE ALL ON FUNCTION pgmetrics._histogram_quantile(
    bigint[], bigint, double precision, double precision, double precision
) FROM public;

COMMIT;
