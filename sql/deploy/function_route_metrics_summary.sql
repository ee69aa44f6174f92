-- Deploy pgmetrics:function_route_metrics_summary to pg
-- requires: function__route_metrics_summary

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- LANGUAGE sql, so that the output columns may carry the names of the route and method parameters.
DROP FUNCTION pgmetrics.route_metrics_summary(timestamptz, timestamptz, text, text, text, text);

CREATE FUNCTION pgmetrics.route_metrics_summary(
    start timestamptz,
    "end" timestamptz,
    bucket text DEFAULT 'hour',
    route text DEFAULT NULL,
    method text DEFAULT NULL,
    tz text DEFAULT 'UTC'
)
RETURNS TABLE (
    bucket_start timestamptz,
    route text,
    method text,
    total_requests bigint,
    successful bigint,
    failed bigint,
    error_rate double precision,
    total_duration_ms double precision,
    average_duration_ms double precision,
    min_duration_ms double precision,
    max_duration_ms double precision,
    p50_duration_ms double precision,
    p95_duration_ms double precision,
    p99_duration_ms double precision,
    last_request_at timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT
        s.bucket_start, s.route, s.method, s.total_requests, s.successful, s.failed, s.error_rate,
        s.total_duration_ms, s.average_duration_ms, s.min_duration_ms, s.max_duration_ms,
        s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms, s.last_request_at
    FROM pgmetrics._route_metrics_summary(
        route_metrics_summary.start, route_metrics_summary."end", route_metrics_summary.bucket,
        route_metrics_summary.route, route_metrics_summary.method, route_metrics_summary.tz
    ) AS s (
        bucket_start timestamptz,
        route text,
        method text,
        total_requests bigint,
        successful bigint,
        failed bigint,
        error_rate double precision,
        total_duration_ms double precision,
        average_duration_ms double precision,
        min_duration_ms double precision,
        max_duration_ms double precision,
        p50_duration_ms double precision,
        p95_duration_ms double precision,
        p99_duration_ms double precision,
        last_request_at timestamptz
    )
    ORDER BY s.bucket_start, s.route, s.method
$$;

COMMENT ON FUNCTION pgmetrics.route_metrics_summary(timestamptz, timestamptz, text, text, text, text) IS
'Route metrics per bucket and (route, method) over [start, end): an hourly row counts when its UTC hour starts in '
'the range. bucket (default hour): hour (UTC hours), day, week or month (local midnights, ISO weeks from Monday and '
'calendar months in tz, default UTC; each hour counts in the period containing its start), or all (one row per key, '
'bucket_start = start). route and method (any case) filter when not NULL. Days, weeks and months in UTC and local '
'days of the report zones are read from their rollups, one stored row per key and bucket; weeks and months of a '
'report zone merge its local days; other zones merge hours, and days older than the hourly detail count in the local '
'day containing their UTC noon. A bucket at the edge of the range whose hours have expired is counted whole. '
'p50/p95/p99 are nearest-rank percentiles within 1 % (docs/HISTOGRAM.md). Rows are ordered by bucket_start and key. '
'Raises 22004 for a NULL start, end, bucket or tz and 22023 for infinite bounds, start after end, an unknown bucket, '
'time zone or method, naming the argument.';

REVOKE ALL ON FUNCTION pgmetrics.route_metrics_summary(timestamptz, timestamptz, text, text, text, text) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.route_metrics_summary(
    timestamptz, timestamptz, text, text, text, text
) TO pgmetrics_reader;


COMMIT;
