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
BEGIN
    /*
    Appending is cheap and merging is not: the state is a concatenation, merged only when it grows past
    4096 elements (so the cost stays linear in the rows) and once at the end by the final function. A group of one
    histogram, the commonest case in the summaries, is returned as it is, without a merge.
    */
    IF COALESCE(pg_catalog.cardinality(v_histogram), 0) = 0 THEN
        RETURN v_state;
    END IF;
    IF COALESCE(pg_catalog.cardinality(v_state), 0) = 0 THEN
        RETURN v_histogram;
    END IF;
    IF v_state[1] = c_unmerged THEN
        v_state := v_state[2:];
    END IF;
    IF v_histogram[1] = c_unmerged THEN
        v_histogram := v_histogram[2:];
    END IF;
    IF pg_catalog.cardinality(v_state) + pg_catalog.cardinality(v_histogram) > 4096 THEN
        RETURN pgmetrics._histogram_merge(v_state, v_histogram);
    END IF;
    RETURN pg_catalog.array_cat(ARRAY[c_unmerged], pg_catalog.array_cat(v_state, v_histogram));
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_merge_agg_step(int[], int[]) IS
'Transition and combine function of pgmetrics._histogram_merge_agg: appends histogram to state behind a leading '
'marker element (-2^63) meaning "to be merged", merging with pgmetrics._histogram_merge once the state exceeds 4096 '
'elements; the first histogram of a group is the state as it is. A NULL or empty histogram leaves state unchanged. '
'Raises 22003 as pgmetrics._histogram_merge does.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_merge_agg_step(int[], int[]) FROM public;

COMMIT;
