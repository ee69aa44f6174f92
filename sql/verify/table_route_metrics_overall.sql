-- Verify pgmetrics:table_route_metrics_overall on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT
    grain,
    period_start,
    total_requests,
    successful,
    failed,
    total_duration_ms,
    min_duration_ms,
    max_duration_ms,
    last_request_at,
    zero_count,
    duration_histogram,
    duration_quantiles,
    updated_at
FROM pgmetrics.route_metrics_overall
WHERE FALSE;

ROLLBACK;
