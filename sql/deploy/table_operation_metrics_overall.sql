-- Deploy pgmetrics:table_operation_metrics_overall to pg
-- requires: table_rollup_watermark
-- requires: partition_hourly_metrics
-- requires: table_operation_metrics_rollup

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * Every operation together, per UTC hour, day and month: operation_duration_quantile over every key reads a few of
 * these rows instead of merging one row per key and period. fold_events keeps the hours current at every fold, and the
 * days and months with the rollups (the hours before the rollup watermark).
 */
CREATE TABLE pgmetrics.operation_metrics_overall (
    grain text NOT NULL,
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
    CONSTRAINT operation_metrics_overall_pkey PRIMARY KEY (grain, period_start),
    CONSTRAINT operation_metrics_overall_grain_check CHECK (grain IN ('hour', 'day', 'month')),
    CONSTRAINT operation_metrics_overall_counts_check CHECK (
        successful >= 0 AND failed >= 0 AND total_executions = successful + failed AND total_executions > 0
    ),
    CONSTRAINT operation_metrics_overall_durations_check CHECK (
        0 <= min_duration_ms AND min_duration_ms <= max_duration_ms AND total_duration_ms >= 0
        AND zero_count BETWEEN 0 AND total_executions
    )
);

ALTER TABLE pgmetrics.operation_metrics_overall ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.operation_metrics_overall FROM public;

-- The hours of the hourly tier, and the days and months of the rollups.
INSERT INTO pgmetrics.operation_metrics_overall (
    grain, period_start, total_executions, successful, failed, total_duration_ms, min_duration_ms, max_duration_ms,
    last_execution_at, zero_count, duration_histogram, duration_quantiles
)
SELECT
    a.grain,
    a.period_start,
    a.total_executions,
    a.successful,
    a.failed,
    a.total_duration_ms,
    a.min_duration_ms,
    a.max_duration_ms,
    a.last_execution_at,
    a.zero_count,
    a.duration_histogram,
    pgmetrics._histogram_quantiles(
        a.duration_histogram, a.zero_count, '{0.5,0.95,0.99}', a.min_duration_ms, a.max_duration_ms
    ) AS duration_quantiles
FROM (
    SELECT
        p.grain,
        p.period_start,
        pg_catalog.sum(p.total_executions)::bigint AS total_executions,
        pg_catalog.sum(p.successful)::bigint AS successful,
        pg_catalog.sum(p.failed)::bigint AS failed,
        pg_catalog.sum(p.total_duration_ms) AS total_duration_ms,
        pg_catalog.min(p.min_duration_ms) AS min_duration_ms,
        pg_catalog.max(p.max_duration_ms) AS max_duration_ms,
        pg_catalog.max(p.last_execution_at) AS last_execution_at,
        pg_catalog.sum(p.zero_count)::bigint AS zero_count,
        pgmetrics._histogram_merge_agg(p.duration_histogram) AS duration_histogram
    FROM (
        SELECT
            'hour' AS grain,
            h.period_start,
            h.total_executions,
            h.successful,
            h.failed,
            h.total_duration_ms,
            h.min_duration_ms,
            h.max_duration_ms,
            h.last_execution_at,
            h.zero_count,
            h.duration_histogram
        FROM pgmetrics.operation_metrics AS h
        UNION ALL
        SELECT
            r.grain,
            r.period_start,
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
        WHERE r.grain IN ('day', 'month') AND r.zone = 'UTC'
    ) AS p
    GROUP BY p.grain, p.period_start
) AS a;

COMMENT ON TABLE pgmetrics.operation_metrics_overall IS
'Every operation together per UTC hour (every folded hour), day and month (the hours before the rollup watermark), '
'written by fold_events, expired by run_retention as the hourly tier and the rollups are. Read by '
'operation_duration_quantile over every key.';

COMMIT;
