-- Revert pgmetrics:function__route_metrics_summary from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- SETOF record: the public SQL wrapper names the columns, which a PL/pgSQL function could not do without its
-- output columns clashing with the route and method parameters.
CREATE OR REPLACE FUNCTION pgmetrics._route_metrics_summary(
    start timestamptz,
    "end" timestamptz,
    bucket text,
    route text,
    method text,
    tz text
)
RETURNS SETOF record
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
-- The filters are optional (NULL means all): a plan made for the actual values uses the right index.
SET plan_cache_mode = force_custom_plan
-- Starting parallel workers costs more than these reads of a few thousand rows take (measured: a one-route
-- summary in a time zone went from 55 ms to 1.4 ms without them).
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    v_method text;
    -- An hourly row counts when its start lies in [start, "end"): the bounds rounded up to whole UTC hours.
    v_hour_start timestamptz;
    v_hour_end timestamptz;
    -- The whole UTC days among those hours.
    v_day_start timestamptz;
    v_day_end timestamptz;
    -- Read: hourly rows in [v_hour_start, v_daily_start) and [v_daily_end, v_hour_end), daily rows in
    -- [v_daily_start, v_daily_end), and for daily rows in [v_rest_start, v_rest_end) what their hours no longer hold.
    v_daily_start timestamptz;
    v_daily_end timestamptz;
    v_rest_start timestamptz;
    v_rest_end timestamptz;
    -- Whether the daily rows were returned as they are, without aggregation.
    v_daily_direct boolean := FALSE;
    -- The UTC days among [v_daily_start, v_daily_end) holding pending events (route_events, created by a later
    -- change of the plan): their daily rows are added to those events, not returned as they are.
    v_pending_start timestamptz;
    v_pending_end timestamptz;
BEGIN
    PERFORM pgmetrics._check_summary_range(
        _route_metrics_summary.start, _route_metrics_summary."end", _route_metrics_summary.bucket,
        _route_metrics_summary.tz
    );
    IF _route_metrics_summary.method IS NOT NULL THEN
        v_method := pgmetrics._check_method(_route_metrics_summary.method);
    END IF;

    v_hour_start := pg_catalog.date_trunc('hour', _route_metrics_summary.start - INTERVAL '1 microsecond', 'UTC')
        + INTERVAL '1 hour';
    v_hour_end := pg_catalog.date_trunc('hour', _route_metrics_summary."end" - INTERVAL '1 microsecond', 'UTC')
        + INTERVAL '1 hour';
    v_day_start := pg_catalog.date_trunc('day', v_hour_start - INTERVAL '1 microsecond', 'UTC') + INTERVAL '24 hours';
    v_day_end := pg_catalog.date_trunc('day', v_hour_end, 'UTC');
    v_daily_start := v_hour_end;
    v_daily_end := v_hour_end;
    v_rest_start := v_hour_end;
    v_rest_end := v_hour_end;

    IF _route_metrics_summary.bucket <> 'hour' AND v_day_start < v_day_end THEN
        /*
         * A whole UTC day that is also a whole local day (any day in UTC, for bucket all any day at all) is read
         * from the daily tier: one row per key instead of 24, and complete even where its hours have expired.
         * Otherwise the hours are needed to place events in local days, and what a day's hours no longer hold
         * (expired detail) still counts, in the local day containing its UTC noon.
         */
        IF _route_metrics_summary.bucket = 'all' OR NOT EXISTS (
            SELECT
            FROM pg_catalog.generate_series(
                v_day_start, v_day_end - INTERVAL '24 hours', INTERVAL '24 hours'
            ) AS d (day)
            WHERE pg_catalog.date_trunc('day', d.day, _route_metrics_summary.tz) <> d.day
                OR pg_catalog.date_trunc('day', d.day + INTERVAL '24 hours', _route_metrics_summary.tz)
                <> d.day + INTERVAL '24 hours'
        ) THEN
            v_daily_start := v_day_start;
            v_daily_end := v_day_end;
        ELSE
            v_rest_start := v_day_start;
            v_rest_end := v_day_end;
        END IF;
    END IF;

    IF _route_metrics_summary.bucket = 'day' AND v_daily_start < v_daily_end THEN
        SELECT
            pg_catalog.date_trunc('day', pg_catalog.min(e.period_start), 'UTC'),
            pg_catalog.date_trunc('day', pg_catalog.max(e.period_start), 'UTC') + INTERVAL '24 hours'
        INTO v_pending_start, v_pending_end
        FROM pgmetrics.route_events AS e
        WHERE e.period_start >= v_daily_start AND e.period_start < v_daily_end
            AND (_route_metrics_summary.route IS NULL OR e.route = _route_metrics_summary.route)
            AND (v_method IS NULL OR e.method = v_method);
        v_pending_start := COALESCE(v_pending_start, v_daily_end);
        v_pending_end := COALESCE(v_pending_end, v_daily_end);
        -- Each of these days is a whole local day and a bucket of its own: its daily row is its summary as it is,
        -- unless the day has pending events.
        RETURN QUERY
        SELECT
            d.period_start, d.route, d.method, d.total_requests, d.successful, d.failed,
            d.failed::double precision / d.total_requests::double precision,
            d.total_duration_ms,
            d.total_duration_ms / d.total_requests::double precision,
            d.min_duration_ms, d.max_duration_ms, d.duration_quantiles[1], d.duration_quantiles[2],
            d.duration_quantiles[3], d.last_request_at
        FROM pgmetrics.route_metrics_daily AS d
        WHERE d.period_start >= v_daily_start AND d.period_start < v_daily_end
            AND NOT (d.period_start >= v_pending_start AND d.period_start < v_pending_end)
            AND (_route_metrics_summary.route IS NULL OR d.route = _route_metrics_summary.route)
            AND (v_method IS NULL OR d.method = v_method);
        v_daily_direct := TRUE;
    END IF;

    RETURN QUERY
    SELECT
        a.bucket_start, a.route, a.method, a.total_requests, a.successful, a.failed,
        a.failed::double precision / a.total_requests::double precision,
        a.total_duration_ms,
        a.total_duration_ms / a.total_requests::double precision,
        a.min_duration_ms, a.max_duration_ms, p.q[1], p.q[2], p.q[3], a.last_request_at
    FROM (
        SELECT
            CASE _route_metrics_summary.bucket
                WHEN 'all' THEN _route_metrics_summary.start
                WHEN 'hour' THEN s.period_start
                ELSE pg_catalog.date_trunc(_route_metrics_summary.bucket, s.period_start, _route_metrics_summary.tz)
            END AS bucket_start,
            s.route,
            s.method,
            pg_catalog.sum(s.total_requests)::bigint AS total_requests,
            pg_catalog.sum(s.successful)::bigint AS successful,
            pg_catalog.sum(s.failed)::bigint AS failed,
            pg_catalog.sum(s.total_duration_ms) AS total_duration_ms,
            pg_catalog.min(s.min_duration_ms) AS min_duration_ms,
            pg_catalog.max(s.max_duration_ms) AS max_duration_ms,
            pg_catalog.max(s.last_request_at) AS last_request_at,
            pg_catalog.count(*) AS parts,
            pg_catalog.sum(s.zero_count)::bigint AS zero_count,
            pgmetrics._histogram_merge_agg(s.duration_histogram) AS duration_histogram,
            pg_catalog.min(s.duration_quantiles) AS duration_quantiles
        FROM (
            SELECT
                h.route, h.method, h.period_start, h.total_requests, h.successful, h.failed,
                h.total_duration_ms, h.min_duration_ms, h.max_duration_ms, h.last_request_at, h.zero_count,
                h.duration_histogram, h.duration_quantiles
            FROM pgmetrics.route_metrics AS h
            WHERE h.period_start >= v_hour_start AND h.period_start < v_daily_start
                AND (_route_metrics_summary.route IS NULL OR h.route = _route_metrics_summary.route)
                AND (v_method IS NULL OR h.method = v_method)
            UNION ALL
            SELECT
                h.route, h.method, h.period_start, h.total_requests, h.successful, h.failed,
                h.total_duration_ms, h.min_duration_ms, h.max_duration_ms, h.last_request_at, h.zero_count,
                h.duration_histogram, h.duration_quantiles
            FROM pgmetrics.route_metrics AS h
            WHERE h.period_start >= v_daily_end AND h.period_start < v_hour_end
                AND (_route_metrics_summary.route IS NULL OR h.route = _route_metrics_summary.route)
                AND (v_method IS NULL OR h.method = v_method)
            UNION ALL
            SELECT
                d.route, d.method, d.period_start, d.total_requests, d.successful, d.failed,
                d.total_duration_ms, d.min_duration_ms, d.max_duration_ms, d.last_request_at, d.zero_count,
                d.duration_histogram, d.duration_quantiles
            FROM pgmetrics.route_metrics_daily AS d
            WHERE d.period_start >= v_daily_start AND d.period_start < v_daily_end
                AND (NOT v_daily_direct OR (d.period_start >= v_pending_start AND d.period_start < v_pending_end))
                AND (_route_metrics_summary.route IS NULL OR d.route = _route_metrics_summary.route)
                AND (v_method IS NULL OR d.method = v_method)
            UNION ALL
            -- Events not folded yet, in their UTC hours.
            SELECT
                e.route, e.method, e.period_start, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE e.success),
                pg_catalog.count(*) FILTER (WHERE NOT e.success), pg_catalog.sum(e.duration_ms),
                pg_catalog.min(e.duration_ms), pg_catalog.max(e.duration_ms), pg_catalog.max(e.at),
                pg_catalog.count(*) FILTER (WHERE e.duration_ms = 0),
                pgmetrics._histogram_of(pg_catalog.array_agg(e.duration_ms)), NULL::double precision []
            FROM pgmetrics.route_events AS e
            WHERE e.period_start >= v_hour_start AND e.period_start < v_hour_end
                AND (_route_metrics_summary.route IS NULL OR e.route = _route_metrics_summary.route)
                AND (v_method IS NULL OR e.method = v_method)
            GROUP BY e.route, e.method, e.period_start
            UNION ALL
            /*
             * Expired detail is placed at UTC noon, so it counts in the local day of the same date for any offset
             * within 12 hours. Its minimum, maximum and last time are known only for the whole day: the day's are
             * used.
             */
            SELECT
                d.route, d.method, d.period_start + INTERVAL '12 hours',
                d.total_requests - COALESCE(r.total_requests, 0), d.successful - COALESCE(r.successful, 0),
                d.failed - COALESCE(r.failed, 0), d.total_duration_ms - COALESCE(r.total_duration_ms, 0),
                d.min_duration_ms, d.max_duration_ms, d.last_request_at, d.zero_count - COALESCE(r.zero_count, 0),
                -- Merged only for the days that lost hours: most days of a range have all of theirs.
                pgmetrics._histogram_difference(
                    d.duration_histogram,
                    (
                        SELECT pgmetrics._histogram_merge_agg(h.duration_histogram)
                        FROM pgmetrics.route_metrics AS h
                        WHERE h.route = d.route AND h.method = d.method
                            AND h.period_start >= d.period_start
                            AND h.period_start < d.period_start + INTERVAL '24 hours'
                    )
                ),
                NULL::double precision []
            FROM pgmetrics.route_metrics_daily AS d
            LEFT JOIN (
                SELECT
                    h.route,
                    h.method,
                    pg_catalog.date_trunc('day', h.period_start, 'UTC') AS period_start,
                    pg_catalog.sum(h.total_requests)::bigint AS total_requests,
                    pg_catalog.sum(h.successful)::bigint AS successful,
                    pg_catalog.sum(h.failed)::bigint AS failed,
                    pg_catalog.sum(h.total_duration_ms) AS total_duration_ms,
                    pg_catalog.sum(h.zero_count)::bigint AS zero_count
                FROM pgmetrics.route_metrics AS h
                WHERE h.period_start >= v_rest_start AND h.period_start < v_rest_end
                    AND (_route_metrics_summary.route IS NULL OR h.route = _route_metrics_summary.route)
                    AND (v_method IS NULL OR h.method = v_method)
                GROUP BY 1, 2, 3
            ) AS r ON r.route = d.route AND r.method = d.method AND r.period_start = d.period_start
            WHERE d.period_start >= v_rest_start AND d.period_start < v_rest_end
                AND (_route_metrics_summary.route IS NULL OR d.route = _route_metrics_summary.route)
                AND (v_method IS NULL OR d.method = v_method)
                AND d.total_requests > COALESCE(r.total_requests, 0)
        ) AS s
        GROUP BY 1, 2, 3
    ) AS a
    -- A bucket of one stored row has its quantiles stored with it; the others are read from the merged histogram.
    CROSS JOIN LATERAL (
        SELECT
            CASE
                WHEN a.parts = 1 AND a.duration_quantiles IS NOT NULL THEN a.duration_quantiles
                ELSE pgmetrics._histogram_quantiles(
                    a.duration_histogram, a.zero_count, '{0.5,0.95,0.99}', a.min_duration_ms, a.max_duration_ms
                )
            END AS q
    ) AS p;
END
$$;

COMMENT ON FUNCTION pgmetrics._route_metrics_summary(timestamptz, timestamptz, text, text, text, text) IS
'Body of route_metrics_summary (same arguments, defaults applied by it), returning its rows unordered as '
'records: the hourly and daily tiers plus the events of route_events not folded yet. '
'Raises 22004 and 22023 as route_metrics_summary does.';

REVOKE ALL ON FUNCTION pgmetrics._route_metrics_summary(timestamptz, timestamptz, text, text, text, text) FROM public;

COMMIT;
