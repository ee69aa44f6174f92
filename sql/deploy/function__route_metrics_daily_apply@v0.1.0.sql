-- Deploy pgmetrics:function__route_metrics_daily_apply to pg
-- requires: table_route_metrics
-- requires: table_route_metrics_daily
-- requires: function__histogram_difference
-- requires: aggregate__histogram_merge_agg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._route_metrics_daily_apply()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    /*
     * Statement-level, over the transition tables: one upsert per statement whatever its size, so a batch of
     * thousands of hourly rows costs one pass. Every writer of route_metrics keeps the daily tier exact without
     * knowing it exists. Rows are applied in key order so that concurrent writers lock daily rows in the same order.
     * An UPDATE adds new minus old; minima, maxima and last times only move one way, so the new values suffice.
     * Histograms only grow too: one that shrank (an hourly row edited by hand) cannot be subtracted and raises.
     */
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pgmetrics.route_metrics_daily AS d (
            route, method, period_start, period_end, total_requests, successful, failed,
            total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
        )
        SELECT
            n.route,
            n.method,
            pg_catalog.date_trunc('day', n.period_start, 'UTC'),
            pg_catalog.date_trunc('day', n.period_start, 'UTC') + INTERVAL '24 hours',
            pg_catalog.sum(n.total_requests),
            pg_catalog.sum(n.successful),
            pg_catalog.sum(n.failed),
            pg_catalog.sum(n.total_duration_ms),
            pg_catalog.min(n.min_duration_ms),
            pg_catalog.max(n.max_duration_ms),
            pg_catalog.max(n.last_request_at),
            pg_catalog.sum(n.zero_count),
            pgmetrics._histogram_merge_agg(n.duration_histogram)
        FROM new_rows AS n
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT ON CONSTRAINT route_metrics_daily_pkey DO UPDATE SET
            total_requests = d.total_requests + excluded.total_requests,
            successful = d.successful + excluded.successful,
            failed = d.failed + excluded.failed,
            total_duration_ms = d.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms = LEAST(d.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms = GREATEST(d.max_duration_ms, excluded.max_duration_ms),
            last_request_at = GREATEST(d.last_request_at, excluded.last_request_at),
            zero_count = d.zero_count + excluded.zero_count,
            duration_histogram = pgmetrics._histogram_merge(d.duration_histogram, excluded.duration_histogram),
            updated_at = pg_catalog.now();
    ELSE
        INSERT INTO pgmetrics.route_metrics_daily AS d (
            route, method, period_start, period_end, total_requests, successful, failed,
            total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
        )
        SELECT
            c.route,
            c.method,
            pg_catalog.date_trunc('day', c.period_start, 'UTC'),
            pg_catalog.date_trunc('day', c.period_start, 'UTC') + INTERVAL '24 hours',
            pg_catalog.sum(c.sign * c.total_requests),
            pg_catalog.sum(c.sign * c.successful),
            pg_catalog.sum(c.sign * c.failed),
            pg_catalog.sum(c.sign * c.total_duration_ms),
            pg_catalog.min(c.min_duration_ms) FILTER (WHERE c.sign = 1),
            pg_catalog.max(c.max_duration_ms) FILTER (WHERE c.sign = 1),
            pg_catalog.max(c.last_request_at) FILTER (WHERE c.sign = 1),
            pg_catalog.sum(c.sign * c.zero_count),
            pgmetrics._histogram_difference(
                pgmetrics._histogram_merge_agg(c.duration_histogram) FILTER (WHERE c.sign = 1),
                pgmetrics._histogram_merge_agg(c.duration_histogram) FILTER (WHERE c.sign = -1)
            )
        FROM (
            SELECT
                1 AS sign, n.route, n.method, n.period_start, n.total_requests, n.successful, n.failed,
                n.total_duration_ms, n.min_duration_ms, n.max_duration_ms, n.last_request_at, n.zero_count,
                n.duration_histogram
            FROM new_rows AS n
            UNION ALL
            SELECT
                -1, o.route, o.method, o.period_start, o.total_requests, o.successful, o.failed,
                o.total_duration_ms, o.min_duration_ms, o.max_duration_ms, o.last_request_at, o.zero_count,
                o.duration_histogram
            FROM old_rows AS o
        ) AS c
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT ON CONSTRAINT route_metrics_daily_pkey DO UPDATE SET
            total_requests = d.total_requests + excluded.total_requests,
            successful = d.successful + excluded.successful,
            failed = d.failed + excluded.failed,
            total_duration_ms = d.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms = LEAST(d.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms = GREATEST(d.max_duration_ms, excluded.max_duration_ms),
            last_request_at = GREATEST(d.last_request_at, excluded.last_request_at),
            zero_count = d.zero_count + excluded.zero_count,
            duration_histogram = pgmetrics._histogram_merge(d.duration_histogram, excluded.duration_histogram),
            updated_at = pg_catalog.now();
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION pgmetrics._route_metrics_daily_apply() IS
'Statement-level trigger of route_metrics (AFTER INSERT with NEW TABLE new_rows, AFTER UPDATE with OLD TABLE old_rows '
'and NEW TABLE new_rows): adds the change of the hourly rows to their UTC days in route_metrics_daily (new minus old '
'counts, sums and histograms, least minimum, greatest maximum and last time), in key order. Raises 22003 when an '
'hourly histogram shrank.';

REVOKE ALL ON FUNCTION pgmetrics._route_metrics_daily_apply() FROM public;

COMMIT;
