-- Revert pgmetrics:function_operation_duration_quantile from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION pgmetrics.operation_duration_quantile(
    q double precision,
    start timestamptz,
    "end" timestamptz,
    operation text DEFAULT NULL
)
RETURNS double precision
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    -- Hourly rows in [v_hour_start, v_day_start) and [v_day_end, v_hour_end), daily rows in between.
    v_hour_start timestamptz;
    v_hour_end timestamptz;
    v_day_start timestamptz;
    v_day_end timestamptz;
    v_histogram int[];
    v_zero_count bigint;
    v_min double precision;
    v_max double precision;
BEGIN
    -- q first: a bad q is an error even over a range without data.
    PERFORM pgmetrics._histogram_quantile('{}', 0, operation_duration_quantile.q, NULL, NULL);
    PERFORM pgmetrics._check_summary_range(
        operation_duration_quantile.start, operation_duration_quantile."end", 'all', 'UTC'
    );
    -- The rows of the range as operation_metrics_summary counts them with bucket all, every key together.
    v_hour_start := pg_catalog.date_trunc('hour', operation_duration_quantile.start - INTERVAL '1 microsecond', 'UTC')
        + INTERVAL '1 hour';
    v_hour_end := pg_catalog.date_trunc('hour', operation_duration_quantile."end" - INTERVAL '1 microsecond', 'UTC')
        + INTERVAL '1 hour';
    v_day_start := pg_catalog.date_trunc('day', v_hour_start - INTERVAL '1 microsecond', 'UTC') + INTERVAL '24 hours';
    v_day_end := pg_catalog.date_trunc('day', v_hour_end, 'UTC');
    IF v_day_start >= v_day_end THEN
        v_day_start := v_hour_end;
        v_day_end := v_hour_end;
    END IF;

    -- Every bucket summed in one pass over all the rows: cheaper than merging them one by one.
    WITH s AS MATERIALIZED (
        SELECT h.duration_histogram, h.zero_count, h.min_duration_ms, h.max_duration_ms
        FROM pgmetrics.operation_metrics AS h
        WHERE ((h.period_start >= v_hour_start AND h.period_start < v_day_start)
            OR (h.period_start >= v_day_end AND h.period_start < v_hour_end))
            AND (operation_duration_quantile.operation IS NULL OR h.operation = operation_duration_quantile.operation)
        UNION ALL
        SELECT d.duration_histogram, d.zero_count, d.min_duration_ms, d.max_duration_ms
        FROM pgmetrics.operation_metrics_daily AS d
        WHERE d.period_start >= v_day_start AND d.period_start < v_day_end
            AND (operation_duration_quantile.operation IS NULL OR d.operation = operation_duration_quantile.operation)
        UNION ALL
        -- Events not folded yet.
        SELECT
            pgmetrics._histogram_of(pg_catalog.array_agg(e.duration_ms)),
            pg_catalog.count(*) FILTER (WHERE e.duration_ms = 0),
            pg_catalog.min(e.duration_ms),
            pg_catalog.max(e.duration_ms)
        FROM pgmetrics.operation_events AS e
        WHERE e.period_start >= v_hour_start AND e.period_start < v_hour_end
            AND (operation_duration_quantile.operation IS NULL OR e.operation = operation_duration_quantile.operation)
    )
    SELECT
        (
            SELECT pgmetrics._histogram_pack(pg_catalog.array_agg(k.bucket), pg_catalog.array_agg(k.bucket_count))
            FROM (
                SELECT e >> 15 AS bucket, pg_catalog.sum(e & 32767)::bigint AS bucket_count
                FROM s CROSS JOIN LATERAL pg_catalog.unnest(s.duration_histogram) AS e
                GROUP BY 1
            ) AS k
        ),
        pg_catalog.sum(s.zero_count)::bigint, pg_catalog.min(s.min_duration_ms), pg_catalog.max(s.max_duration_ms)
    INTO v_histogram, v_zero_count, v_min, v_max
    FROM s;
    RETURN pgmetrics._histogram_quantile(v_histogram, v_zero_count, operation_duration_quantile.q, v_min, v_max);
END
$$;

COMMENT ON FUNCTION pgmetrics.operation_duration_quantile(double precision, timestamptz, timestamptz, text) IS
'The nearest-rank q-quantile (0 <= q <= 1) of the durations of operation executions over [start, end), every '
'operation together, read from the merged 1 % histograms of the hourly and daily tiers and the pending events '
'(within 1 % of the exact value; q = 0 and q = 1 give the exact minimum and maximum). The range counts as '
'route_metrics_summary counts it with bucket all. operation filters when not NULL. NULL when nothing was '
'recorded. Raises 22004 for a NULL start or end and 22023 for a q that is NULL, NaN or outside [0, 1], infinite '
'bounds or start after end.';

REVOKE ALL ON FUNCTION pgmetrics.operation_duration_quantile(
    double precision, timestamptz, timestamptz, text
) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.operation_duration_quantile(
    double precision, timestamptz, timestamptz, text
) TO pgmetrics_reader;

COMMIT;
