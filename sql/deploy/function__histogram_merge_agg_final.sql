-- Deploy pgmetrics:function__histogram_merge_agg_final to pg
-- requires: function__histogram_merge

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_merge_agg_final(state int[])
RETURNS int[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF _histogram_merge_agg_final.state[1] = -2147483648 THEN
        RETURN pgmetrics._histogram_merge(_histogram_merge_agg_final.state[3:], NULL);
    END IF;
    RETURN COALESCE(_histogram_merge_agg_final.state, '{}');
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_merge_agg_final(int[]) IS
'Final function of pgmetrics._histogram_merge_agg: merges a state marked "to be merged" by '
'pgmetrics._histogram_merge_agg_step, and returns any other state (one histogram, or one merge) as it is. '
'Raises 22003 as pgmetrics._histogram_merge does.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_merge_agg_final(int[]) FROM public;

COMMIT;
