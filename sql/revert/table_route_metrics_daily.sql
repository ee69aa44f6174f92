-- Revert pgmetrics:table_route_metrics_daily from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- One row per route template, HTTP method and UTC day: the summary tier. Triggers on the hourly table keep it equal
-- to the sum of its hours as data arrives; deleting hourly rows leaves it alone, so it outlives expired detail.
CREATE TABLE pgmetrics.route_metrics_daily (
    route text NOT NULL,
    method text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    total_requests bigint NOT NULL,
    successful bigint NOT NULL,
    failed bigint NOT NULL,
    total_duration_ms double precision NOT NULL,
    min_duration_ms double precision NOT NULL,
    max_duration_ms double precision NOT NULL,
    last_request_at timestamptz NOT NULL,
    -- The durations in 1 % log buckets (docs/HISTOGRAM.md); rows written before histograms existed hold none.
    zero_count bigint NOT NULL DEFAULT 0,
    duration_histogram int[] NOT NULL DEFAULT '{}',
    -- p50, p95 and p99, kept with the row so that reading a row does not walk its histogram.
    duration_quantiles double precision[] GENERATED ALWAYS AS (
        pgmetrics._histogram_quantiles(
            duration_histogram, zero_count, '{0.5,0.95,0.99}', min_duration_ms, max_duration_ms
        )
    ) STORED,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The key column comes first so that the table can be distributed by route.
    CONSTRAINT route_metrics_daily_pkey PRIMARY KEY (route, method, period_start),
    CONSTRAINT route_metrics_daily_period_check CHECK (
        period_start = pg_catalog.date_trunc('day', period_start, 'UTC')
        AND period_end = period_start + interval '24 hours'
    ),
    CONSTRAINT route_metrics_daily_counts_check CHECK (
        successful >= 0 AND failed >= 0 AND total_requests = successful + failed AND total_requests > 0
    ),
    CONSTRAINT route_metrics_daily_durations_check CHECK (
        0 <= min_duration_ms AND min_duration_ms <= max_duration_ms AND total_duration_ms >= 0
        AND zero_count BETWEEN 0 AND total_requests
    )
);

-- Summaries over all keys read a range of days through this index.
CREATE INDEX route_metrics_daily_period_start_idx ON pgmetrics.route_metrics_daily (period_start);

ALTER TABLE pgmetrics.route_metrics_daily ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.route_metrics_daily FROM public;

COMMENT ON TABLE pgmetrics.route_metrics_daily IS
'Daily summary of route metrics: one row per route template, HTTP method and UTC day, the sum of its hourly rows. '
'Maintained by triggers on route_metrics; kept when hourly rows are deleted.';

-- The UTC days come back from the day rollup.
INSERT INTO pgmetrics.route_metrics_daily (
    route, method, period_start, period_end, total_requests, successful, failed, total_duration_ms, min_duration_ms,
    max_duration_ms, last_request_at, zero_count, duration_histogram
)
SELECT
    r.route,
    r.method,
    r.period_start,
    r.period_start + interval '24 hours' AS period_end,
    r.total_requests,
    r.successful,
    r.failed,
    r.total_duration_ms,
    r.min_duration_ms,
    r.max_duration_ms,
    r.last_request_at,
    r.zero_count,
    r.duration_histogram
FROM pgmetrics.route_metrics_rollup AS r
WHERE r.grain = 'day' AND r.zone = 'UTC';

COMMIT;
