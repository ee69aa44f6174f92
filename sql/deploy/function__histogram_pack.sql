-- Deploy pgmetrics:function__histogram_pack to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_pack(buckets int[], counts bigint[])
RETURNS int[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result int[];
    v_low int;
    v_high int;
    v_largest bigint;
BEGIN
    SELECT pg_catalog.min(u.bucket), pg_catalog.max(u.bucket), pg_catalog.max(u.bucket_count)
    INTO v_low, v_high, v_largest
    FROM ROWS FROM (
        pg_catalog.unnest(_histogram_pack.buckets), pg_catalog.unnest(_histogram_pack.counts)
    ) AS u (bucket, bucket_count);
    IF v_low < -37220 OR v_high > 35488 THEN
        RAISE EXCEPTION 'histogram bucket % is outside -37220 to 35488',
            CASE WHEN v_low < -37220 THEN v_low ELSE v_high END
            USING ERRCODE = 'numeric_value_out_of_range';
    END IF;
    IF v_largest <= 32767 THEN
        SELECT pg_catalog.array_agg((u.bucket << 15) | u.bucket_count::int ORDER BY u.bucket)
        INTO v_result
        FROM ROWS FROM (
            pg_catalog.unnest(_histogram_pack.buckets), pg_catalog.unnest(_histogram_pack.counts)
        ) AS u (bucket, bucket_count)
        WHERE u.bucket_count > 0;
        RETURN COALESCE(v_result, '{}');
    END IF;
    /*
     * An element holds up to 32767 durations: a larger count takes several elements of one bucket, the remainder
     * first, so that the elements ascend.
     */
    SELECT pg_catalog.array_agg((u.bucket << 15) | p.part ORDER BY (u.bucket << 15) | p.part)
    INTO v_result
    FROM ROWS FROM (
        pg_catalog.unnest(_histogram_pack.buckets), pg_catalog.unnest(_histogram_pack.counts)
    ) AS u (bucket, bucket_count)
    CROSS JOIN LATERAL (
        SELECT
            CASE
                WHEN i.i = 0 THEN u.bucket_count - 32767 * ((u.bucket_count - 1) / 32767)
                ELSE 32767
            END::int AS part
        FROM pg_catalog.generate_series(0::bigint, (u.bucket_count - 1) / 32767) AS i (i)
    ) AS p
    WHERE u.bucket_count > 0;
    RETURN COALESCE(v_result, '{}');
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_pack(int[], bigint[]) IS
'Returns the histogram holding counts[i] durations in bucket buckets[i] (each bucket once, counts > 0; zero '
'counts are left out): elements bucket * 2^15 + count in ascending order, a count above 32767 split over '
'several elements of its bucket. Raises 22003 for a bucket outside -37220 to 35488.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_pack(int[], bigint[]) FROM public;

COMMIT;
