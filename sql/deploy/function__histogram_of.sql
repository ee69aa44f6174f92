-- Deploy pgmetrics:function__histogram_of to pg
-- requires: function__histogram_bucket
-- requires: function__histogram_pack

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_of(durations double precision[])
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
    SELECT pg_catalog.array_agg(k.bucket), pg_catalog.array_agg(k.bucket_count)
    INTO v_buckets, v_counts
    FROM (
        SELECT pgmetrics._histogram_bucket(d.duration_ms) AS bucket, pg_catalog.count(*) AS bucket_count
        FROM pg_catalog.unnest(_histogram_of.durations) AS d (duration_ms)
        WHERE d.duration_ms <> 0
        GROUP BY 1
    ) AS k;
    RETURN pgmetrics._histogram_pack(v_buckets, v_counts);
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_of(double precision[]) IS
'Returns the histogram (see pgmetrics._histogram_pack) of durations; zero durations and NULLs are left out (the '
'caller counts zeros in zero_count). Raises 22023 for a duration that is negative, NaN or infinite.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_of(double precision[]) FROM public;

COMMIT;
