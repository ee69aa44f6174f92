-- Deploy pgmetrics:table_operation_metrics_rollup to pg
-- requires: table_operation_metrics_daily
-- requires: aggregate__histogram_merge_agg
-- requires: function__histogram_quantiles

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * The rollup tiers: one row per key and UTC day, ISO week (Monday) and calendar month, and per key and local day of
 * each report zone. fold_events keeps them equal to the sum of their hours, with p50, p95 and p99 stored, so a
 * summary by any of these buckets reads one row per key and bucket and merges no histogram. They outlive the hourly
 * detail that retention expires.
 */
CREATE TABLE pgmetrics.operation_metrics_rollup (
    operation text NOT NULL,
    grain text NOT NULL,
    zone text NOT NULL,
    period_start timestamptz NOT NULL,
    total_executions bigint NOT NULL,
    successful bigint NOT NULL,
    failed bigint NOT NULL,
    total_duration_ms double precision NOT NULL,
    min_duration_ms double precision NOT NULL,
    max_duration_ms double precision NOT NULL,
    last_execution_at timestamptz NOT NULL,
    zero_count bigint NOT NULL,
    duration_histogram int[] NOT NULL,
    duration_quantiles double precision[] NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The key column comes first so that the table can be distributed by operation.
    CONSTRAINT operation_metrics_rollup_pkey PRIMARY KEY (operation, grain, zone, period_start),
    CONSTRAINT operation_metrics_rollup_grain_check CHECK (
        grain IN ('day', 'week', 'month') AND (grain = 'day' OR zone = 'UTC')
    ),
    CONSTRAINT operation_metrics_rollup_counts_check CHECK (
        successful >= 0 AND failed >= 0 AND total_executions = successful + failed AND total_executions > 0
    ),
    CONSTRAINT operation_metrics_rollup_durations_check CHECK (
        0 <= min_duration_ms AND min_duration_ms <= max_duration_ms AND total_duration_ms >= 0
        AND zero_count BETWEEN 0 AND total_executions
    )
);

-- Summaries over every key read a range of one tier through this index.
CREATE INDEX operation_metrics_rollup_period_idx ON pgmetrics.operation_metrics_rollup (grain, zone, period_start);

ALTER TABLE pgmetrics.operation_metrics_rollup ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.operation_metrics_rollup FROM public;

-- The UTC days stored so far, and the weeks and months they make up.
INSERT INTO pgmetrics.operation_metrics_rollup (
    operation, grain, zone, period_start, total_executions, successful, failed, total_duration_ms,
    min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram, duration_quantiles
)
SELECT
    d.operation,
    'day' AS grain,
    'UTC' AS zone,
    d.period_start,
    d.total_executions,
    d.successful,
    d.failed,
    d.total_duration_ms,
    d.min_duration_ms,
    d.max_duration_ms,
    d.last_execution_at,
    d.zero_count,
    d.duration_histogram,
    d.duration_quantiles
FROM pgmetrics.operation_metrics_daily AS d;

INSERT INTO pgmetrics.operation_metrics_rollup (
    operation, grain, zone, period_start, total_executions, successful, failed, total_duration_ms,
    min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram, duration_quantiles
)
SELECT
    a.*,
    pgmetrics._histogram_quantiles(
        a.duration_histogram, a.zero_count, '{0.5,0.95,0.99}', a.min_duration_ms, a.max_duration_ms
    ) AS duration_quantiles
FROM (
    SELECT
        d.operation,
        g.grain,
        'UTC' AS zone,
        pg_catalog.date_trunc(g.grain, d.period_start, 'UTC') AS period_start,
        pg_catalog.sum(d.total_executions)::bigint AS total_executions,
        pg_catalog.sum(d.successful)::bigint AS successful,
        pg_catalog.sum(d.failed)::bigint AS failed,
        pg_catalog.sum(d.total_duration_ms) AS total_duration_ms,
        pg_catalog.min(d.min_duration_ms) AS min_duration_ms,
        pg_catalog.max(d.max_duration_ms) AS max_duration_ms,
        pg_catalog.max(d.last_execution_at) AS last_execution_at,
        pg_catalog.sum(d.zero_count)::bigint AS zero_count,
        pgmetrics._histogram_merge_agg(d.duration_histogram) AS duration_histogram
    FROM pgmetrics.operation_metrics_daily AS d
    CROSS JOIN (VALUES ('week'), ('month')) AS g (grain)
    GROUP BY d.operation, g.grain, pg_catalog.date_trunc(g.grain, d.period_start, 'UTC')
) AS a;

COMMENT ON TABLE pgmetrics.operation_metrics_rollup IS
'Rollup tiers of operation metrics: one row per operation, grain (day, week, month) and zone (UTC, or a '
'report zone for local days) and period, the sum of its hourly rows with stored p50, p95 and p99. Kept current by '
'fold_events; kept for summary_retention_days after the hourly rows expire.';

COMMIT;
