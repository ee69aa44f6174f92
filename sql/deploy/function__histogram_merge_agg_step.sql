-- Deploy pgmetrics:function__histogram_merge_agg_step to pg
-- requires: function__histogram_merge

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_merge_agg_step(state bigint[], histogram bigint[])
RETURNS bigint[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    /*
    Appending is cheap and merging is not: the state is a concatenation, merged only when it grows past
    4096 elements (so the cost stays linear in the rows) and once at the end by the final function.
    */
    IF _histogram_merge_agg_step.histogram IS NULL THEN
        RETURN _histogram_merge_agg_step.state;
    END IF;
    IF
        COALESCE(pg_catalog.cardinality(_histogram_merge_agg_step.state), 0)
        + pg_catalog.cardinality(_histogram_merge_agg_step.histogram) > 4096
    THEN
        RETURN pgmetrics._histogram_merge(_histogram_merge_agg_step.state, _histogram_merge_agg_step.histogram);
    END IF;
    RETURN pg_catalog.array_cat(_histogram_merge_agg_step.state, _histogram_merge_agg_step.histogram);
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_merge_agg_step(bigint[], bigint[]) IS
'Transition and combine function of pgmetrics._histogram_merge_agg: appends histogram to state, merging with '
'pgmetrics._histogram_merge once the state exceeds 4096 elements. A NULL histogram leaves state unchanged. '
'Raises 22003 as pgmetrics._histogram_merge does.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_merge_agg_step(bigint[], bigint[]) FROM public;

COMMIT;
