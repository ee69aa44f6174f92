-- Revert pgmetrics:table_operation_metrics_daily from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- One row per operation name and UTC day: the summary tier. Triggers on the hourly table keep it equal to the sum of
-- its hours as data arrives; deleting hourly rows leaves it alone, so it outlives expired detail.
CREATE TABLE pgmetrics.operation_metrics_daily (
    operation text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    total_executions bigint NOT NULL,
    successful bigint NOT NULL,
    failed bigint NOT NULL,
    total_duration_ms double precision NOT NULL,
    min_duration_ms double precision NOT NULL,
    max_duration_ms double precision NOT NULL,
    last_execution_at timestamptz NOT NULL,
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
    -- The key column comes first so that the table can be distributed by operation.
    CONSTRAINT operation_metrics_daily_pkey PRIMARY KEY (operation, period_start),
    CONSTRAINT operation_metrics_daily_period_check CHECK (
        period_start = pg_catalog.date_trunc('day', period_start, 'UTC')
        AND period_end = period_start + interval '24 hours'
    ),
    CONSTRAINT operation_metrics_daily_counts_check CHECK (
        successful >= 0 AND failed >= 0 AND total_executions = successful + failed AND total_executions > 0
    ),
    CONSTRAINT operation_metrics_daily_durations_check CHECK (
        0 <= min_duration_ms AND min_duration_ms <= max_duration_ms AND total_duration_ms >= 0
        AND zero_count BETWEEN 0 AND total_executions
    )
);

-- Summaries over all keys read a range of days through this index.
CREATE INDEX operation_metrics_daily_period_start_idx ON pgmetrics.operation_metrics_daily (period_start);

ALTER TABLE pgmetrics.operation_metrics_daily ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.operation_metrics_daily FROM public;

COMMENT ON TABLE pgmetrics.operation_metrics_daily IS
'Daily summary of operation metrics: one row per operation name and UTC day, the sum of its hourly rows. '
'Maintained by triggers on operation_metrics; kept when hourly rows are deleted.';

-- The UTC days come back from the day rollup.
INSERT INTO pgmetrics.operation_metrics_daily (
    operation, period_start, period_end, total_executions, successful, failed, total_duration_ms, min_duration_ms,
    max_duration_ms, last_execution_at, zero_count, duration_histogram
)
SELECT
    r.operation,
    r.period_start,
    r.period_start + interval '24 hours' AS period_end,
    r.total_executions,
    r.successful,
    r.failed,
    r.total_duration_ms,
    r.min_duration_ms,
    r.max_duration_ms,
    r.last_execution_at,
    r.zero_count,
    r.duration_histogram
FROM pgmetrics.operation_metrics_rollup AS r
WHERE r.grain = 'day' AND r.zone = 'UTC';

COMMIT;
