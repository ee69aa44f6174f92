-- Deploy pgmetrics:function__histogram_quantiles to pg
-- requires: function__histogram_merge

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_quantiles(
    histogram int[],
    zero_count bigint,
    qs double precision[],
    min double precision,
    max double precision
)
RETURNS double precision[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_count_mask CONSTANT int := 32767;
    c_ln_gamma CONSTANT double precision := 0.020000666706669435;
    c_ln_midpoint CONSTANT double precision := -0.010050335853501395;
    v_histogram int[] := COALESCE(_histogram_quantiles.histogram, '{}');
    v_zero_count bigint := COALESCE(_histogram_quantiles.zero_count, 0);
    v_total bigint := v_zero_count;
    v_previous int;
    v_element int;
    v_q double precision;
    v_count int;
    v_ranks double precision[];
    v_order int[];
    v_result double precision[];
    v_next int := 1;
    v_seen bigint;
    v_exponent double precision;
    v_value double precision;
    v_i int;
    v_j int;
BEGIN
    IF _histogram_quantiles.qs IS NULL THEN
        RAISE EXCEPTION 'qs must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    /* NaN sorts above every number in PostgreSQL, so the upper bound rejects it too. */
    FOREACH v_q IN ARRAY _histogram_quantiles.qs LOOP
        IF v_q IS NULL OR NOT (v_q >= 0 AND v_q <= 1) THEN
            RAISE EXCEPTION 'q must be between 0 and 1, got %', COALESCE(v_q::text, 'NULL')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;

    -- One pass for the total, which also tells whether the keys ascend: array loops cost far less than a query.
    FOREACH v_element IN ARRAY v_histogram LOOP
        IF v_element < v_previous THEN
            v_histogram := pgmetrics._histogram_merge(v_histogram, NULL);
            SELECT pg_catalog.sum(e & c_count_mask) + v_zero_count INTO v_total
            FROM pg_catalog.unnest(v_histogram) AS e;
            EXIT;
        END IF;
        v_previous := v_element;
        v_total := v_total + (v_element & c_count_mask);
    END LOOP;
    IF v_total = 0 THEN
        RETURN pg_catalog.array_fill(NULL::double precision, ARRAY[pg_catalog.cardinality(_histogram_quantiles.qs)]);
    END IF;

    -- Nearest rank of each q, and the positions of qs by ascending rank (insertion sort: qs are a handful).
    v_count := pg_catalog.cardinality(_histogram_quantiles.qs);
    v_ranks := pg_catalog.array_fill(NULL::double precision, ARRAY[v_count]);
    v_order := pg_catalog.array_fill(NULL::int, ARRAY[v_count]);
    v_result := pg_catalog.array_fill(NULL::double precision, ARRAY[v_count]);
    FOR v_i IN 1 .. v_count LOOP
        v_ranks[v_i] := GREATEST(1, pg_catalog.ceil(_histogram_quantiles.qs[v_i] * v_total::double precision));
        v_j := v_i;
        WHILE v_j > 1 AND v_ranks[v_order[v_j - 1]] > v_ranks[v_i] LOOP
            v_order[v_j] := v_order[v_j - 1];
            v_j := v_j - 1;
        END LOOP;
        v_order[v_j] := v_i;
    END LOOP;

    -- One walk meets the ranks in ascending order: the zero bucket first, then the keys ascending.
    WHILE v_next <= v_count AND v_ranks[v_order[v_next]] <= v_zero_count LOOP
        v_result[v_order[v_next]] := 0;
        v_next := v_next + 1;
    END LOOP;
    v_seen := v_zero_count;
    FOREACH v_element IN ARRAY v_histogram LOOP
        EXIT WHEN v_next > v_count;
        v_seen := v_seen + (v_element & c_count_mask);
        IF v_seen >= v_ranks[v_order[v_next]] THEN
            -- 2 g^k / (g + 1) as an exponential, held inside the range of normal doubles.
            v_exponent := (v_element >> 15) * c_ln_gamma + c_ln_midpoint;
            IF v_exponent >= 709.782712893384 THEN
                v_value := 1.7976931348623157e308;
            ELSE
                v_value := pg_catalog.exp(GREATEST(v_exponent, -708.3964185322641));
            END IF;
            WHILE v_next <= v_count AND v_seen >= v_ranks[v_order[v_next]] LOOP
                v_result[v_order[v_next]] := v_value;
                v_next := v_next + 1;
            END LOOP;
        END IF;
    END LOOP;

    -- Clamped to the exact extremes, which q = 0 and q = 1 return as they are.
    FOR v_i IN 1 .. v_count LOOP
        IF _histogram_quantiles.qs[v_i] = 0 AND _histogram_quantiles.min IS NOT NULL THEN
            v_result[v_i] := _histogram_quantiles.min;
        ELSIF _histogram_quantiles.qs[v_i] = 1 AND _histogram_quantiles.max IS NOT NULL THEN
            v_result[v_i] := _histogram_quantiles.max;
        ELSE
            v_result[v_i] := LEAST(GREATEST(v_result[v_i], _histogram_quantiles.min), _histogram_quantiles.max);
        END IF;
    END LOOP;
    RETURN v_result;
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_quantiles(
    int[], bigint, double precision[], double precision, double precision
) IS
'Returns the nearest-rank quantile (rank max(1, ceil(q * n))) for each q of qs, in the order of qs, of the durations '
'counted by histogram and zero_count: 0 for a rank in the zero bucket, else the value 2 g^k / (g + 1) of the bucket '
'k holding the rank, clamped to [min, max] (either may be NULL when unknown). q = 0 returns min and q = 1 returns '
'max exactly when they are given; an empty histogram gives NULLs. One walk over the histogram for all of qs; keys '
'in any order are merged first. Raises 22004 for NULL qs and 22023 for a q that is NULL, NaN or outside [0, 1].';

REVOKE ALL ON FUNCTION pgmetrics._histogram_quantiles(
    int[], bigint, double precision[], double precision, double precision
) FROM public;

COMMIT;
