-- Deploy pgmetrics:aggregate__histogram_concat to pg
-- requires: schema_pgmetrics
-- requires: role_pgmetrics_reader

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * The packed elements of a group's histograms in one array, unsorted and with repeated buckets, so that a merge can
 * unnest one group at a time: each group's elements then sort in memory, where one grouping of (group, bucket) over
 * every group sorts or hashes millions of elements past work_mem. SSPACE tells the planner that a state holds a few
 * thousand elements, so that it groups sorted input rather than hashing every state at once.
 */
CREATE AGGREGATE pgmetrics._histogram_concat(histogram int[]) (  -- noqa: PRS
    SFUNC = pg_catalog.array_cat,
    STYPE = int[],
    INITCOND = '{}',
    SSPACE = 16384
);

COMMENT ON AGGREGATE pgmetrics._histogram_concat(int[]) IS
'The packed elements of the histograms of a group, concatenated in input order (not a histogram: buckets repeat and '
'are not sorted; sum the counts per bucket to merge). NULL histograms are skipped; no row or only NULLs give {}.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_concat(int[]) FROM public;
-- The *_by_day|week|month views call it, and a view checks EXECUTE on its functions as the user reading it. It
-- reads no table: it only joins the arrays it is given.
GRANT EXECUTE ON FUNCTION pgmetrics._histogram_concat(int[]) TO pgmetrics_reader;

COMMIT;
