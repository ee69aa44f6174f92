-- Deploy pgmetrics:function__histogram_difference to pg
-- requires: function__histogram_merge

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_difference(a bigint[], b bigint[])
RETURNS bigint[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_count_mask CONSTANT bigint := 70368744177663;
    v_result bigint[];
    v_min_count numeric;
BEGIN
    IF COALESCE(pg_catalog.cardinality(_histogram_difference.b), 0) = 0 THEN
        RETURN COALESCE(_histogram_difference.a, '{}');
    END IF;
    SELECT
        pg_catalog.array_agg((s.bucket << 46) | (s.bucket_count)::bigint ORDER BY s.bucket)
            FILTER (WHERE s.bucket_count > 0),
        pg_catalog.min(s.bucket_count)
    INTO v_result, v_min_count
    FROM (
        SELECT c.bucket, pg_catalog.sum(c.bucket_count) AS bucket_count
        FROM (
            SELECT e >> 46 AS bucket, e & c_count_mask AS bucket_count
            FROM pg_catalog.unnest(_histogram_difference.a) AS e
            UNION ALL
            SELECT e >> 46, -(e & c_count_mask) FROM pg_catalog.unnest(_histogram_difference.b) AS e
        ) AS c
        GROUP BY 1
    ) AS s;
    IF v_min_count < 0 THEN
        RAISE EXCEPTION 'histogram b is not contained in histogram a: a bucket count would be %', v_min_count
            USING ERRCODE = 'numeric_value_out_of_range';
    END IF;
    RETURN COALESCE(v_result, '{}');
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_difference(bigint[], bigint[]) IS
'Returns the histogram holding the counts of a minus those of b, canonical (keys ascending, each once, no empty '
'bucket), or a as it is when b is empty. NULL is the empty histogram; the inputs may hold keys in any order and '
'repeated. '
'Raises 22003 when b counts more in a bucket than a, or a bucket count of a exceeds 2^46 - 1.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_difference(bigint[], bigint[]) FROM public;

COMMIT;
