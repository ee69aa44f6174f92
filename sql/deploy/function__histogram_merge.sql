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
    v_result int[];
    v_largest bigint;
    v_low int;
    v_high int;
    v_buckets int[];
    v_counts bigint[];
BEGIN
    /* Grouping accepts any order and repeated buckets, so a concatenation of histograms merges too. */
    SELECT
        pg_catalog.array_agg((s.bucket << 15) | LEAST(s.bucket_count, 32767)::int ORDER BY s.bucket),
        pg_catalog.max(s.bucket_count), pg_catalog.min(s.bucket), pg_catalog.max(s.bucket)
    INTO v_result, v_largest, v_low, v_high
    FROM (
        SELECT e >> 15 AS bucket, pg_catalog.sum(e & 32767)::bigint AS bucket_count
        FROM pg_catalog.unnest(pg_catalog.array_cat(_histogram_merge.a, _histogram_merge.b)) AS e
        GROUP BY 1
    ) AS s;
    IF v_largest <= 32767 AND v_low >= -37220 AND v_high <= 35488 THEN
        RETURN v_result;
    END IF;
    IF v_largest IS NULL THEN
        RETURN '{}';
    END IF;
    -- Counts to split, or a bucket out of range to refuse: pgmetrics._histogram_pack does both.
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
