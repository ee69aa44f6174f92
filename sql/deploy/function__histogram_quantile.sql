-- Deploy pgmetrics:function__histogram_quantile to pg
-- requires: function__histogram_quantiles

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._histogram_quantile(
    histogram int[],
    zero_count bigint,
    q double precision,
    min double precision,
    max double precision
)
RETURNS double precision
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (pgmetrics._histogram_quantiles(
        _histogram_quantile.histogram, _histogram_quantile.zero_count, ARRAY[_histogram_quantile.q],
        _histogram_quantile.min, _histogram_quantile.max
    ))[1];
END
$$;

COMMENT ON FUNCTION pgmetrics._histogram_quantile(
    int[], bigint, double precision, double precision, double precision
) IS
'Returns the nearest-rank q-quantile (rank max(1, ceil(q * n))) of the durations counted by histogram and '
'zero_count: 0 for a rank in the zero bucket, else the value 2 g^k / (g + 1) of the bucket k holding the rank, '
'clamped to [min, max] (either may be NULL when unknown). q = 0 returns min and q = 1 returns max exactly when '
'they are given; an empty histogram returns NULL. pgmetrics._histogram_quantiles for one q. Raises 22023 for a q '
'that is NULL, NaN or outside [0, 1].';

REVOKE ALL ON FUNCTION pgmetrics._histogram_quantile(
    int[], bigint, double precision, double precision, double precision
) FROM public;

COMMIT;
