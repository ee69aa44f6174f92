-- Deploy pgmetrics:function__histogram_difference to pg
-- requires: function__histogram_pack

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_difference(a int[], b int[])
RETURNS int[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_buckets int[];
    v_counts bigint[];
    v_min_count bigint;
BEGIN
    IF COALESCE(pg_catalog.cardinality(_histogram_difference.b), 0) = 0 THEN
        RETURN COALESCE(_histogram_difference.a, '{}');
    END IF;
    SELECT pg_catalog.array_agg(s.bucket), pg_catalog.array_agg(s.bucket_count), pg_catalog.min(s.bucket_count)
    INTO v_buckets, v_counts, v_min_count
    FROM (
        SELECT c.bucket, pg_catalog.sum(c.bucket_count)::bigint AS bucket_count
        FROM (
            SELECT e >> 15 AS bucket, e & 32767 AS bucket_count
            FROM pg_catalog.unnest(_histogram_difference.a) AS e
            UNION ALL
            SELECT e >> 15, -(e & 32767) FROM pg_catalog.unnest(_histogram_difference.b) AS e
        ) AS c
        GROUP BY 1
    ) AS s;
    IF v_min_count < 0 THEN
        RAISE EXCEPTION 'histogram b is not contained in histogram a: a bucket count would be %', v_min_count
            USING ERRCODE = 'numeric_value_out_of_range';
    END IF;
    RETURN pgmetrics._histogram_pack(v_buckets, v_counts);
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_difference(int[], int[]) IS
'Returns the histogram holding the counts of a minus those of b, canonical (see pgmetrics._histogram_pack), or a as '
'it is when b is empty. NULL is the empty histogram; the inputs may hold elements in any order. '
'Raises 22003 when b counts more in a bucket than a.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_difference(int[], int[]) FROM public;

COMMIT;
