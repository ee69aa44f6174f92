-- Revert pgmetrics:function__operation_metrics_summary from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._operation_metrics_summary(timestamptz, timestamptz, text, text, text);

CREATE FUNCTION pgmetrics._operation_metrics_summary(
    start timestamptz,
    "end" timestamptz,
    bucket text,
    operation text,
    tz text
)
RETURNS SETOF record
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
-- The filters are optional (NULL means all): a plan made for the actual values uses the right index.
SET plan_cache_mode = force_custom_plan
-- Starting parallel workers costs more than these reads of a few thousand rows take.
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    -- An hourly row counts when its start lies in [start, "end"): the bounds rounded up to whole UTC hours.
    v_hour_start timestamptz;
    v_hour_end timestamptz;
    -- Hours before this have expired (whole UTC days).
    v_horizon timestamptz;
    -- The rollup tier read for whole periods, and by how much its rows are moved before they are bucketed.
    v_grain text;
    v_zone text;
    v_offset interval := INTERVAL '0';
    v_step interval;
    -- Rollup rows starting in [v_mid_start, v_mid_end) are read; they hold the hours [v_cover_start, v_cover_end).
    v_mid_start timestamptz;
    v_mid_end timestamptz;
    v_cover_start timestamptz;
    v_cover_end timestamptz;
    -- The rollups hold the hours before this; later hours are read from the hourly tier.
    v_rolled timestamptz;
    -- For bucket all, whole UTC months among those rows are read from the month rollup instead.
    v_month_start timestamptz;
    v_month_end timestamptz;
BEGIN
    /*
     * Each bucket is read from the coarsest stored rows that make it up: a rollup row when the bucket is one of
     * its periods (UTC days, weeks and months, local days of a report zone), local days for the weeks and months of
     * a report zone, months and days for bucket all, hours elsewhere and at the edges of the range, plus the
     * pending cells and events. A bucket of one stored row returns its stored quantiles; only the others merge
     * histograms, set-based.
     */
    PERFORM pgmetrics._check_summary_range(
        _operation_metrics_summary.start, _operation_metrics_summary."end", _operation_metrics_summary.bucket, _operation_metrics_summary.tz
    );

    v_hour_start := pg_catalog.date_trunc('hour', _operation_metrics_summary.start - INTERVAL '1 microsecond', 'UTC')
        + INTERVAL '1 hour';
    v_hour_end := pg_catalog.date_trunc('hour', _operation_metrics_summary."end" - INTERVAL '1 microsecond', 'UTC')
        + INTERVAL '1 hour';
    -- Retention has deleted the hours before the detail cutoff of its latest run.
    SELECT COALESCE(pg_catalog.max((r.result ->> 'detail_cutoff')::timestamptz), '-infinity')
    INTO v_horizon
    FROM pgmetrics.retention_runs AS r;
    SELECT w.rolled_until INTO v_rolled FROM pgmetrics.rollup_watermark AS w;
    v_mid_start := v_hour_end;
    v_mid_end := v_hour_end;
    v_month_start := v_hour_end;
    v_month_end := v_hour_end;

    IF _operation_metrics_summary.bucket <> 'hour' THEN
        IF _operation_metrics_summary.bucket = 'all' THEN
            v_grain := 'day';
            v_zone := 'UTC';
        ELSIF pg_catalog.upper(_operation_metrics_summary.tz) = 'UTC' THEN
            v_grain := _operation_metrics_summary.bucket;
            v_zone := 'UTC';
        ELSE
            v_grain := 'day';
            SELECT z.zone INTO v_zone
            FROM pgmetrics.report_zones AS z
            WHERE pg_catalog.lower(z.zone) = pg_catalog.lower(_operation_metrics_summary.tz);
            IF v_zone IS NULL THEN
                -- No local days are stored in this zone: UTC days stand in for expired hours, placed at UTC noon.
                v_zone := 'UTC';
                v_offset := INTERVAL '12 hours';
            END IF;
        END IF;
        v_step := CASE v_grain
            WHEN 'day' THEN INTERVAL '1 day' WHEN 'week' THEN INTERVAL '7 days' ELSE INTERVAL '1 month'
        END;
        /*
         * The first period whose hours all lie in the range, and the end of the last. An edge period that started
         * before the horizon has lost its hours: it is read whole, so that expired detail is counted, not dropped.
         */
        v_mid_start := pg_catalog.date_trunc(v_grain, v_hour_start, v_zone);
        IF v_mid_start <= v_hour_start - INTERVAL '1 hour' AND v_mid_start >= v_horizon THEN
            v_mid_start := ((v_mid_start AT TIME ZONE v_zone) + v_step) AT TIME ZONE v_zone;
        END IF;
        v_mid_end := pg_catalog.date_trunc(v_grain, v_hour_end, v_zone);
        IF v_mid_end <= v_hour_end - INTERVAL '1 hour' AND v_mid_end < v_horizon THEN
            v_mid_end := ((v_mid_end AT TIME ZONE v_zone) + v_step) AT TIME ZONE v_zone;
        END IF;
        IF v_offset > INTERVAL '0' THEN
            v_mid_end := LEAST(v_mid_end, v_horizon);
        END IF;
        IF v_mid_start >= v_mid_end THEN
            v_mid_start := v_hour_end;
            v_mid_end := v_hour_end;
        END IF;
        IF _operation_metrics_summary.bucket = 'all' THEN
            v_month_start := pg_catalog.date_trunc('month', v_mid_start - INTERVAL '1 microsecond', 'UTC')
                + INTERVAL '1 month';
            v_month_end := pg_catalog.date_trunc('month', v_mid_end, 'UTC');
            IF v_month_start >= v_month_end THEN
                v_month_start := v_hour_end;
                v_month_end := v_hour_end;
            END IF;
        END IF;
    END IF;
    v_cover_start := pg_catalog.date_trunc('hour', v_mid_start - INTERVAL '1 microsecond', 'UTC') + INTERVAL '1 hour';
    v_cover_end := pg_catalog.date_trunc('hour', v_mid_end - INTERVAL '1 microsecond', 'UTC') + INTERVAL '1 hour';

    -- With nothing pending in the range, buckets of one stored row need no grouping: hours, and the periods of the
    -- rollup read when they make up the range exactly, are returned as stored.
    IF NOT EXISTS (
        SELECT FROM pgmetrics.operation_cells AS c
        WHERE c.period_start >= v_hour_start AND c.period_start < v_hour_end
            AND (_operation_metrics_summary.operation IS NULL OR c.operation = _operation_metrics_summary.operation)
    ) AND NOT EXISTS (
        SELECT FROM pgmetrics.operation_events AS e
        WHERE e.period_start >= v_hour_start AND e.period_start < v_hour_end
            AND (_operation_metrics_summary.operation IS NULL OR e.operation = _operation_metrics_summary.operation)
    ) THEN
        IF _operation_metrics_summary.bucket = 'hour' THEN
            RETURN QUERY
            SELECT
                h.period_start, h.operation, h.total_executions, h.successful, h.failed,
                h.failed::double precision / h.total_executions::double precision, h.total_duration_ms,
                h.total_duration_ms / h.total_executions::double precision, h.min_duration_ms, h.max_duration_ms,
                h.duration_quantiles[1], h.duration_quantiles[2], h.duration_quantiles[3], h.last_execution_at
            FROM pgmetrics.operation_metrics AS h
            WHERE h.period_start >= v_hour_start AND h.period_start < v_hour_end
                AND (_operation_metrics_summary.operation IS NULL OR h.operation = _operation_metrics_summary.operation);
            RETURN;
        END IF;
        IF _operation_metrics_summary.bucket = v_grain AND v_offset = INTERVAL '0' AND v_cover_start = v_hour_start
            AND v_cover_end = v_hour_end AND v_cover_end <= v_rolled THEN
            RETURN QUERY
            SELECT
                r.period_start, r.operation, r.total_executions, r.successful, r.failed,
                r.failed::double precision / r.total_executions::double precision, r.total_duration_ms,
                r.total_duration_ms / r.total_executions::double precision, r.min_duration_ms, r.max_duration_ms,
                r.duration_quantiles[1], r.duration_quantiles[2], r.duration_quantiles[3], r.last_execution_at
            FROM pgmetrics.operation_metrics_rollup AS r
            WHERE r.grain = v_grain AND r.zone = v_zone AND r.period_start >= v_mid_start AND r.period_start < v_mid_end
                AND (_operation_metrics_summary.operation IS NULL OR r.operation = _operation_metrics_summary.operation);
            RETURN;
        END IF;
    END IF;

    RETURN QUERY
    WITH parts AS NOT MATERIALIZED (
        SELECT
            r.period_start AS at, r.operation, r.total_executions AS n, r.successful AS s, r.failed AS f,
            r.total_duration_ms AS d, r.min_duration_ms AS lo, r.max_duration_ms AS hi, r.last_execution_at AS t,
            r.zero_count AS z, r.duration_histogram AS histogram, r.duration_quantiles AS quantiles
        FROM pgmetrics.operation_metrics_rollup AS r
        WHERE r.grain = 'month' AND r.zone = 'UTC' AND r.period_start >= v_month_start AND r.period_start < v_month_end
            AND (_operation_metrics_summary.operation IS NULL OR r.operation = _operation_metrics_summary.operation)
        UNION ALL
        SELECT
            r.period_start + v_offset, r.operation, r.total_executions, r.successful, r.failed,
            r.total_duration_ms, r.min_duration_ms, r.max_duration_ms, r.last_execution_at, r.zero_count,
            r.duration_histogram, r.duration_quantiles
        FROM pgmetrics.operation_metrics_rollup AS r
        WHERE r.grain = v_grain AND r.zone = v_zone AND r.period_start >= v_mid_start AND r.period_start < v_mid_end
            AND (r.period_start < v_month_start OR r.period_start >= v_month_end)
            AND (_operation_metrics_summary.operation IS NULL OR r.operation = _operation_metrics_summary.operation)
        UNION ALL
        SELECT
            h.period_start, h.operation, h.total_executions, h.successful, h.failed, h.total_duration_ms,
            h.min_duration_ms, h.max_duration_ms, h.last_execution_at, h.zero_count, h.duration_histogram,
            h.duration_quantiles
        FROM pgmetrics.operation_metrics AS h
        WHERE (
            (h.period_start >= v_hour_start AND h.period_start < v_cover_start)
            OR (h.period_start >= v_cover_end AND h.period_start < v_hour_end)
            OR (h.period_start >= GREATEST(v_cover_start, v_rolled) AND h.period_start < v_cover_end)
        )
            AND (_operation_metrics_summary.operation IS NULL OR h.operation = _operation_metrics_summary.operation)
        UNION ALL
        -- Cells and events not folded yet, in their UTC hours.
        SELECT
            c.period_start, c.operation, c.total_executions, c.successful, c.total_executions - c.successful,
            c.total_duration_ms, c.min_duration_ms, c.max_duration_ms, c.last_execution_at, c.zero_count,
            c.duration_histogram, NULL::double precision []
        FROM pgmetrics.operation_cells AS c
        WHERE c.period_start >= v_hour_start AND c.period_start < v_hour_end
            AND (_operation_metrics_summary.operation IS NULL OR c.operation = _operation_metrics_summary.operation)
        UNION ALL
        -- One part per key and hour: a bucket's parts are concatenated, and a hot key's thousands of events would
        -- copy its growing array once per event.
        SELECT
            e.period_start, e.operation, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE e.success),
            pg_catalog.count(*) FILTER (WHERE NOT e.success), pg_catalog.sum(e.duration_ms),
            pg_catalog.min(e.duration_ms), pg_catalog.max(e.duration_ms), pg_catalog.max(e.at),
            pg_catalog.count(*) FILTER (WHERE e.duration_ms = 0),
            COALESCE(pg_catalog.array_agg((CASE
                WHEN pg_catalog.ceil(l.x) - l.x > 1e-6 AND l.x - (pg_catalog.ceil(l.x) - 1) > 1e-6
                    THEN pg_catalog.ceil(l.x)::int
                ELSE pgmetrics._histogram_bucket(e.duration_ms)
            END) << 15 | 1) FILTER (WHERE e.duration_ms > 0), '{}'::int []),
            NULL::double precision []
        FROM pgmetrics.operation_events AS e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN e.duration_ms > 0 THEN pg_catalog.ln(e.duration_ms) / 0.020000666706669435 END
        ) AS l (x)
        WHERE e.period_start >= v_hour_start AND e.period_start < v_hour_end
            AND (_operation_metrics_summary.operation IS NULL OR e.operation = _operation_metrics_summary.operation)
        GROUP BY e.period_start, e.operation
    ),
    keyed AS (
        SELECT
            CASE _operation_metrics_summary.bucket
                WHEN 'all' THEN _operation_metrics_summary.start
                WHEN 'hour' THEN p.at
                ELSE pg_catalog.date_trunc(_operation_metrics_summary.bucket, p.at, _operation_metrics_summary.tz)
            END AS bucket_start,
            p.operation, p.n, p.s, p.f, p.d, p.lo, p.hi, p.t, p.z, p.histogram, p.quantiles
        FROM parts AS p
    ),
    -- Each bucket with its histograms concatenated, so that a bucket of several rows merges on its own below.
    groups AS (
        SELECT
            k.bucket_start, k.operation, pg_catalog.sum(k.n)::bigint AS n, pg_catalog.sum(k.s)::bigint AS s,
            pg_catalog.sum(k.f)::bigint AS f, pg_catalog.sum(k.d) AS d, pg_catalog.min(k.lo) AS lo,
            pg_catalog.max(k.hi) AS hi, pg_catalog.max(k.t) AS t, pg_catalog.sum(k.z)::bigint AS z,
            pg_catalog.count(*) AS parts, pg_catalog.min(k.quantiles) AS quantiles,
            pgmetrics._histogram_concat(k.histogram) AS histogram
        FROM keyed AS k
        GROUP BY k.bucket_start, k.operation
    )
    SELECT
        g.bucket_start, g.operation, g.n, g.s, g.f, g.f::double precision / g.n::double precision, g.d,
        g.d / g.n::double precision, g.lo, g.hi,
        CASE WHEN g.parts = 1 AND g.quantiles IS NOT NULL THEN g.quantiles[1] ELSE LEAST(GREATEST(CASE
                WHEN GREATEST(1, pg_catalog.ceil(0.5 * COALESCE(q.total, g.z))) <= g.z THEN 0
                WHEN q.b50 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                    THEN 1.7976931348623157e308
                ELSE pg_catalog.exp(GREATEST(q.b50 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641))
            END, g.lo), g.hi) END,
        CASE WHEN g.parts = 1 AND g.quantiles IS NOT NULL THEN g.quantiles[2] ELSE LEAST(GREATEST(CASE
                WHEN GREATEST(1, pg_catalog.ceil(0.95 * COALESCE(q.total, g.z))) <= g.z THEN 0
                WHEN q.b95 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                    THEN 1.7976931348623157e308
                ELSE pg_catalog.exp(GREATEST(q.b95 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641))
            END, g.lo), g.hi) END,
        CASE WHEN g.parts = 1 AND g.quantiles IS NOT NULL THEN g.quantiles[3] ELSE LEAST(GREATEST(CASE
                WHEN GREATEST(1, pg_catalog.ceil(0.99 * COALESCE(q.total, g.z))) <= g.z THEN 0
                WHEN q.b99 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                    THEN 1.7976931348623157e308
                ELSE pg_catalog.exp(GREATEST(q.b99 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641))
            END, g.lo), g.hi) END,
        g.t
    FROM groups AS g
    /*
     * Only buckets made of several rows, or of pending ones, merge their histograms: one bucket at a time, its few
     * thousand elements summed per histogram bucket in memory, then walked in order to the first bucket whose
     * running count reaches each rank.
     */
    CROSS JOIN LATERAL (
        SELECT
            pg_catalog.max(w.total) AS total,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= GREATEST(1, pg_catalog.ceil(0.5 * w.total))) AS b50,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= GREATEST(1, pg_catalog.ceil(0.95 * w.total))) AS b95,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= GREATEST(1, pg_catalog.ceil(0.99 * w.total))) AS b99
        FROM (
            SELECT
                m.bucket,
                -- In double precision: exact to 2^53, and far cheaper per element than numeric.
                g.z::double precision + pg_catalog.sum(m.c) OVER (ORDER BY m.bucket) AS seen,
                g.z::double precision + pg_catalog.sum(m.c) OVER () AS total
            FROM (
                SELECT x.e >> 15 AS bucket, pg_catalog.sum((x.e & 32767)::double precision) AS c
                FROM (SELECT pg_catalog.unnest(g.histogram) AS e WHERE g.parts > 1 OR g.quantiles IS NULL) AS x
                GROUP BY x.e >> 15
                HAVING pg_catalog.sum((x.e & 32767)::double precision) > 0
            ) AS m
        ) AS w
    ) AS q;
END
$$;

COMMENT ON FUNCTION pgmetrics._operation_metrics_summary(timestamptz, timestamptz, text, text, text) IS
'Body of operation_metrics_summary (same arguments, defaults applied by it), returning its rows unordered as '
'records: the rollups, the hourly tier and the pending cells and events. '
'Raises 22004 and 22023 as operation_metrics_summary does.';

REVOKE ALL ON FUNCTION pgmetrics._operation_metrics_summary(timestamptz, timestamptz, text, text, text) FROM public;

COMMIT;
