-- Deploy pgmetrics:function__histogram_merge to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_merge(a bigint[], b bigint[])
RETURNS bigint[]
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_count_mask CONSTANT bigint := 70368744177663;
    v_result bigint[];
    v_max_count numeric;
BEGIN
    /* Grouping accepts any order and repeated keys, so a concatenation of histograms merges too. */
    SELECT
        pg_catalog.array_agg((s.bucket << 46) | (s.bucket_count)::bigint ORDER BY s.bucket),
        pg_catalog.max(s.bucket_count)
    INTO v_result, v_max_count
    FROM (
        SELECT e >> 46 AS bucket, pg_catalog.sum(e & c_count_mask) AS bucket_count
        FROM pg_catalog.unnest(pg_catalog.array_cat(_histogram_merge.a, _histogram_merge.b)) AS e
        GROUP BY 1
    ) AS s;
    -- A count above 2^46 - 1 would spill into the key bits.
    IF v_max_count > c_count_mask THEN
        RAISE EXCEPTION 'histogram bucket count % exceeds %', v_max_count, c_count_mask
            USING ERRCODE = 'numeric_value_out_of_range';
    END IF;
    RETURN COALESCE(v_result, '{}');
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_merge(bigint[], bigint[]) IS
'Returns the histogram holding the counts of a and b: elements key * 2^46 + count, keys ascending, each once. '
'NULL is the empty histogram; the inputs may hold keys in any order and repeated (their counts add up). '
'Raises 22003 when a bucket count would exceed 2^46 - 1.';

REVOKE ALL ON FUNCTION pgmetrics._histogram_merge(bigint[], bigint[]) FROM public;

COMMIT;
