-- Revert pgmetrics:function_operation_duration_quantile from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.operation_duration_quantile(
    double precision, timestamptz, timestamptz, text
);

CREATE FUNCTION pgmetrics.operation_duration_quantile(
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
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    -- The rows of the range as operation_metrics_summary reads them with bucket all, every key together.
    v_hour_start timestamptz;
    v_hour_end timestamptz;
    v_horizon timestamptz;
    v_day_start timestamptz;
    v_day_end timestamptz;
    v_month_start timestamptz;
    v_month_end timestamptz;
    v_cover_start timestamptz;
    v_cover_end timestamptz;
    v_result double precision;
BEGIN
    -- q first: a bad q is an error even over a range without data.
    PERFORM pgmetrics._histogram_quantile('{}', 0, operation_duration_quantile.q, NULL, NULL);
    PERFORM pgmetrics._check_summary_range(operation_duration_quantile.start, operation_duration_quantile."end", 'all', 'UTC');
    v_hour_start := pg_catalog.date_trunc('hour', operation_duration_quantile.start - INTERVAL '1 microsecond', 'UTC') + INTERVAL '1 hour';
    v_hour_end := pg_catalog.date_trunc('hour', operation_duration_quantile."end" - INTERVAL '1 microsecond', 'UTC') + INTERVAL '1 hour';
    -- Retention has deleted the hours before the detail cutoff of its latest run.
    SELECT COALESCE(pg_catalog.max((r.result ->> 'detail_cutoff')::timestamptz), '-infinity')
    INTO v_horizon
    FROM pgmetrics.retention_runs AS r;
    -- Whole UTC days, and whole months among them; an edge day whose hours expired counts whole.
    v_day_start := pg_catalog.date_trunc('day', v_hour_start, 'UTC');
    IF v_day_start < v_hour_start AND v_day_start >= v_horizon THEN
        v_day_start := v_day_start + INTERVAL '1 day';
    END IF;
    v_day_end := pg_catalog.date_trunc('day', v_hour_end, 'UTC');
    IF v_day_end < v_hour_end AND v_day_end < v_horizon THEN
        v_day_end := v_day_end + INTERVAL '1 day';
    END IF;
    IF v_day_start >= v_day_end THEN
        v_day_start := v_hour_end;
        v_day_end := v_hour_end;
    END IF;
    v_month_start := pg_catalog.date_trunc('month', v_day_start - INTERVAL '1 microsecond', 'UTC') + INTERVAL '1 month';
    v_month_end := pg_catalog.date_trunc('month', v_day_end, 'UTC');
    IF v_month_start >= v_month_end THEN
        v_month_start := v_hour_end;
        v_month_end := v_hour_end;
    END IF;
    v_cover_start := v_day_start;
    v_cover_end := v_day_end;

    -- Every bucket of every row summed in one grouping: cheaper than merging the rows one by one.
    WITH parts AS MATERIALIZED (
        SELECT r.duration_histogram AS histogram, r.zero_count AS z, r.min_duration_ms AS lo, r.max_duration_ms AS hi
        FROM pgmetrics.operation_metrics_rollup AS r
        WHERE r.grain = 'month' AND r.zone = 'UTC' AND r.period_start >= v_month_start AND r.period_start < v_month_end
            AND (operation_duration_quantile.operation IS NULL OR r.operation = operation_duration_quantile.operation)
        UNION ALL
        SELECT r.duration_histogram, r.zero_count, r.min_duration_ms, r.max_duration_ms
        FROM pgmetrics.operation_metrics_rollup AS r
        WHERE r.grain = 'day' AND r.zone = 'UTC' AND r.period_start >= v_day_start AND r.period_start < v_day_end
            AND (r.period_start < v_month_start OR r.period_start >= v_month_end)
            AND (operation_duration_quantile.operation IS NULL OR r.operation = operation_duration_quantile.operation)
        UNION ALL
        SELECT h.duration_histogram, h.zero_count, h.min_duration_ms, h.max_duration_ms
        FROM pgmetrics.operation_metrics AS h
        WHERE (
            (h.period_start >= v_hour_start AND h.period_start < v_cover_start)
            OR (h.period_start >= v_cover_end AND h.period_start < v_hour_end)
        )
            AND (operation_duration_quantile.operation IS NULL OR h.operation = operation_duration_quantile.operation)
        UNION ALL
        -- Cells and events not folded yet.
        SELECT c.duration_histogram, c.zero_count, c.min_duration_ms, c.max_duration_ms
        FROM pgmetrics.operation_cells AS c
        WHERE c.period_start >= v_hour_start AND c.period_start < v_hour_end
            AND (operation_duration_quantile.operation IS NULL OR c.operation = operation_duration_quantile.operation)
        UNION ALL
        SELECT
            CASE WHEN e.duration_ms > 0 THEN ARRAY[(CASE
                WHEN pg_catalog.ceil(l.x) - l.x > 1e-6 AND l.x - (pg_catalog.ceil(l.x) - 1) > 1e-6
                    THEN pg_catalog.ceil(l.x)::int
                ELSE pgmetrics._histogram_bucket(e.duration_ms)
            END) << 15 | 1] ELSE '{}'::int [] END,
            (e.duration_ms = 0)::int, e.duration_ms, e.duration_ms
        FROM pgmetrics.operation_events AS e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN e.duration_ms > 0 THEN pg_catalog.ln(e.duration_ms) / 0.020000666706669435 END
        ) AS l (x)
        WHERE e.period_start >= v_hour_start AND e.period_start < v_hour_end
            AND (operation_duration_quantile.operation IS NULL OR e.operation = operation_duration_quantile.operation)
    ),
    totals AS (
        SELECT
            pg_catalog.sum(p.z) AS z, pg_catalog.min(p.lo) AS lo, pg_catalog.max(p.hi) AS hi,
            pg_catalog.count(*) AS parts
        FROM parts AS p
    ),
    buckets AS (
        SELECT u.e >> 15 AS bucket, pg_catalog.sum(u.e & 32767) AS c
        FROM parts AS p CROSS JOIN LATERAL pg_catalog.unnest(p.histogram) AS u (e)
        GROUP BY 1
        HAVING pg_catalog.sum(u.e & 32767) > 0
    ),
    walk AS (
        SELECT
            b.bucket, t.z::double precision + pg_catalog.sum(b.c::double precision) OVER (ORDER BY b.bucket) AS seen,
            t.z::double precision + pg_catalog.sum(b.c::double precision) OVER () AS total
        FROM buckets AS b CROSS JOIN totals AS t
    ),
    answer AS (
        SELECT
            COALESCE(pg_catalog.max(w.total), pg_catalog.max(t.z)) AS total,
            pg_catalog.min(w.bucket) FILTER (
                WHERE w.seen >= GREATEST(1, pg_catalog.ceil(operation_duration_quantile.q * w.total))
            ) AS bucket
        FROM totals AS t LEFT JOIN walk AS w ON TRUE
    )
    -- Nearest rank: 0 among the zeros, else the value 2 g^k / (g + 1) of bucket k, clamped to [min, max].
    SELECT
        CASE
            WHEN a.total IS NULL OR a.total = 0 THEN NULL
            WHEN operation_duration_quantile.q = 0 THEN t.lo
            WHEN operation_duration_quantile.q = 1 THEN t.hi
            WHEN GREATEST(1, pg_catalog.ceil(operation_duration_quantile.q * a.total)) <= t.z THEN LEAST(GREATEST(0, t.lo), t.hi)
            WHEN a.bucket * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384 THEN t.hi
            ELSE LEAST(GREATEST(
                pg_catalog.exp(GREATEST(a.bucket * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641)),
                t.lo
            ), t.hi)
        END
    INTO v_result
    FROM answer AS a CROSS JOIN totals AS t;
    RETURN v_result;
END
$$;

COMMENT ON FUNCTION pgmetrics.operation_duration_quantile(double precision, timestamptz, timestamptz, text) IS
'The nearest-rank q-quantile (0 <= q <= 1) of the durations of operation executions over [start, end), every '
'operation together, read from the merged 1 % histograms of the month and day rollups, the hourly tier at the edges '
'and the pending cells and events (within 1 % of the exact value; q = 0 and q = 1 give the exact minimum and '
'maximum). The range counts as operation_metrics_summary counts it with bucket all. operation filters when not '
'NULL. NULL when nothing was recorded. Raises 22004 for a NULL start or end and 22023 for a q that is NULL, NaN or '
'outside [0, 1], infinite bounds or start after end.';

REVOKE ALL ON FUNCTION pgmetrics.operation_duration_quantile(
    double precision, timestamptz, timestamptz, text
) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.operation_duration_quantile(
    double precision, timestamptz, timestamptz, text
) TO pgmetrics_reader;

COMMIT;
