-- Deploy pgmetrics:function__operation_metrics_daily_apply to pg
-- requires: table_operation_metrics
-- requires: table_operation_metrics_daily
-- requires: function__histogram_difference
-- requires: aggregate__histogram_merge_agg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._operation_metrics_daily_apply()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    /*
     * Statement-level, over the transition tables: one upsert per statement whatever its size, so a batch of
     * thousands of hourly rows costs one pass. Every writer of operation_metrics keeps the daily tier exact without
     * knowing it exists. Rows are applied in key order so that concurrent writers lock daily rows in the same order.
     * An UPDATE adds new minus old; minima, maxima and last times only move one way, so the new values suffice.
     * Histograms only grow too: one that shrank (an hourly row edited by hand) cannot be subtracted and raises.
     */
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pgmetrics.operation_metrics_daily AS d (
            operation, period_start, period_end, total_executions, successful, failed,
            total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram
        )
        SELECT
            n.operation,
            pg_catalog.date_trunc('day', n.period_start, 'UTC'),
            pg_catalog.date_trunc('day', n.period_start, 'UTC') + INTERVAL '24 hours',
            pg_catalog.sum(n.total_executions),
            pg_catalog.sum(n.successful),
            pg_catalog.sum(n.failed),
            pg_catalog.sum(n.total_duration_ms),
            pg_catalog.min(n.min_duration_ms),
            pg_catalog.max(n.max_duration_ms),
            pg_catalog.max(n.last_execution_at),
            pg_catalog.sum(n.zero_count),
            pgmetrics._histogram_merge_agg(n.duration_histogram)
        FROM new_rows AS n
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT ON CONSTRAINT operation_metrics_daily_pkey DO UPDATE SET
            total_executions = d.total_executions + excluded.total_executions,
            successful = d.successful + excluded.successful,
            failed = d.failed + excluded.failed,
            total_duration_ms = d.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms = LEAST(d.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms = GREATEST(d.max_duration_ms, excluded.max_duration_ms),
            last_execution_at = GREATEST(d.last_execution_at, excluded.last_execution_at),
            zero_count = d.zero_count + excluded.zero_count,
            duration_histogram = pgmetrics._histogram_merge(d.duration_histogram, excluded.duration_histogram),
            updated_at = pg_catalog.now();
    ELSE
        INSERT INTO pgmetrics.operation_metrics_daily AS d (
            operation, period_start, period_end, total_executions, successful, failed,
            total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram
        )
        SELECT
            c.operation,
            pg_catalog.date_trunc('day', c.period_start, 'UTC'),
            pg_catalog.date_trunc('day', c.period_start, 'UTC') + INTERVAL '24 hours',
            pg_catalog.sum(c.sign * c.total_executions),
            pg_catalog.sum(c.sign * c.successful),
            pg_catalog.sum(c.sign * c.failed),
            pg_catalog.sum(c.sign * c.total_duration_ms),
            pg_catalog.min(c.min_duration_ms) FILTER (WHERE c.sign = 1),
            pg_catalog.max(c.max_duration_ms) FILTER (WHERE c.sign = 1),
            pg_catalog.max(c.last_execution_at) FILTER (WHERE c.sign = 1),
            pg_catalog.sum(c.sign * c.zero_count),
            pgmetrics._histogram_difference(
                pgmetrics._histogram_merge_agg(c.duration_histogram) FILTER (WHERE c.sign = 1),
                pgmetrics._histogram_merge_agg(c.duration_histogram) FILTER (WHERE c.sign = -1)
            )
        FROM (
            SELECT
                1 AS sign, n.operation, n.period_start, n.total_executions, n.successful, n.failed,
                n.total_duration_ms, n.min_duration_ms, n.max_duration_ms, n.last_execution_at, n.zero_count,
                n.duration_histogram
            FROM new_rows AS n
            UNION ALL
            SELECT
                -1, o.operation, o.period_start, o.total_executions, o.successful, o.failed,
                o.total_duration_ms, o.min_duration_ms, o.max_duration_ms, o.last_execution_at, o.zero_count,
                o.duration_histogram
            FROM old_rows AS o
        ) AS c
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT ON CONSTRAINT operation_metrics_daily_pkey DO UPDATE SET
            total_executions = d.total_executions + excluded.total_executions,
            successful = d.successful + excluded.successful,
            failed = d.failed + excluded.failed,
            total_duration_ms = d.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms = LEAST(d.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms = GREATEST(d.max_duration_ms, excluded.max_duration_ms),
            last_execution_at = GREATEST(d.last_execution_at, excluded.last_execution_at),
            zero_count = d.zero_count + excluded.zero_count,
            duration_histogram = pgmetrics._histogram_merge(d.duration_histogram, excluded.duration_histogram),
            updated_at = pg_catalog.now();
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION pgmetrics._operation_metrics_daily_apply() IS
'Statement-level trigger of operation_metrics (AFTER INSERT with NEW TABLE new_rows, AFTER UPDATE with OLD TABLE '
'old_rows and NEW TABLE new_rows): adds the change of the hourly rows to their UTC days in operation_metrics_daily '
'(new minus old counts and sums, least minimum, greatest maximum and last time), in key order. Raises nothing of its '
'own.';

REVOKE ALL ON FUNCTION pgmetrics._operation_metrics_daily_apply() FROM public;

COMMIT;
