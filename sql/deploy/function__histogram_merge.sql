-- Deploy pgmetrics:function__histogram_merge to pg
-- requires: function__histogram_pack

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_merge(a int[], b int[])
RETURNS int[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_buckets int[];
    v_counts bigint[];
BEGIN
    /* Grouping accepts any order and repeated buckets, so a concatenation of histograms merges too. */
    SELECT pg_catalog.array_agg(s.bucket), pg_catalog.array_agg(s.bucket_count)
    INTO v_buckets, v_counts
    FROM (
        SELECT e >> 15 AS bucket, pg_catalog.sum(e & 32767)::bigint AS bucket_count
        FROM pg_catalog.unnest(pg_catalog.array_cat(_histogram_merge.a, _histogram_merge.b)) AS e
        GROUP BY 1
    ) AS s;
    RETURN pgmetrics._histogram_pack(v_buckets, v_counts);
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_merge(int[], int[]) IS
'Returns the histogram holding the counts of a and b, canonical (see pgmetrics._histogram_pack). NULL is the empty '
'histogram; the inputs may hold elements in any order and buckets repeated (their counts add up).';

REVOKE ALL ON FUNCTION pgmetrics._histogram_merge(int[], int[]) FROM public;

COMMIT;
