-- Deploy pgmetrics:function__histogram_merge_agg_step to pg
-- requires: function__histogram_merge

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_merge_agg_step(state int[], histogram int[])
RETURNS int[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- Marks a state that is a concatenation still to be merged; no histogram holds it (its key is out of range).
    c_unmerged CONSTANT int := -2147483648;
    v_state int[] := _histogram_merge_agg_step.state;
    v_histogram int[] := _histogram_merge_agg_step.histogram;
    v_merged_size int;
BEGIN
    /*
    Appending is cheap and merging is not: the state is a concatenation [marker, size of its merged part, elements],
    merged when it grows past twice its merged part (and at least 4096 elements), so the cost stays linear in the
    rows however large the merged histogram gets, and once at the end by the final function. A group of one
    histogram, the commonest case in the summaries, is returned as it is, without a merge.
    */
    IF COALESCE(pg_catalog.cardinality(v_histogram), 0) = 0 THEN
        RETURN v_state;
    END IF;
    IF COALESCE(pg_catalog.cardinality(v_state), 0) = 0 THEN
        RETURN v_histogram;
    END IF;
    IF v_state[1] = c_unmerged THEN
        v_merged_size := v_state[2];
        v_state := v_state[3:];
    ELSE
        v_merged_size := pg_catalog.cardinality(v_state);
    END IF;
    IF v_histogram[1] = c_unmerged THEN
        v_histogram := v_histogram[3:];
    END IF;
    IF pg_catalog.cardinality(v_state) + pg_catalog.cardinality(v_histogram) > GREATEST(4096, 2 * v_merged_size) THEN
        RETURN pgmetrics._histogram_merge(v_state, v_histogram);
    END IF;
    RETURN pg_catalog.array_cat(ARRAY[c_unmerged, v_merged_size], pg_catalog.array_cat(v_state, v_histogram));
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_merge_agg_step(int[], int[]) IS
'Transition and combine function of pgmetrics._histogram_merge_agg: appends histogram to state behind a marker '
'element (-2^31) meaning "to be merged" and the size of the state when it was last merged, merging with '
'pgmetrics._histogram_merge once the state exceeds twice that size and 4096 elements; the first histogram of a group '
'is the state as it is. A NULL or empty histogram leaves state unchanged. '
'Raises 22003 as pgmetrics._histogram_merge does.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_merge_agg_step(int[], int[]) FROM public;

COMMIT;
