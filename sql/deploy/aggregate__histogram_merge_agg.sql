-- Deploy pgmetrics:aggregate__histogram_merge_agg to pg
-- requires: function__histogram_merge
-- requires: function__histogram_merge_agg_step
-- requires: function__histogram_merge_agg_final

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- An aggregate cannot SET search_path; its support functions do, and they qualify every reference.
CREATE AGGREGATE pgmetrics._histogram_merge_agg(histogram int[]) (  -- noqa: PRS
    SFUNC = pgmetrics._histogram_merge_agg_step,
    STYPE = int[],
    INITCOND = '{}',
    FINALFUNC = pgmetrics._histogram_merge_agg_final,
    COMBINEFUNC = pgmetrics._histogram_merge_agg_step,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE pgmetrics._histogram_merge_agg(int[]) IS
'Merges the histograms of a group into one (keys ascending, each once), as pgmetrics._histogram_merge does '
'pairwise; NULL histograms are skipped and no row or only NULLs give the empty histogram {}. Parallel safe. '
'Raises 22003 as pgmetrics._histogram_pack does.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_merge_agg(int[]) FROM public;

COMMIT;
