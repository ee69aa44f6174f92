-- Revert pgmetrics:drop_daily_tier from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The daily tables come back holding the UTC days of the day rollup; the triggers keep them from here on.

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


INSERT INTO pgmetrics.route_metrics_daily (
    route, method, period_start, period_end, total_requests, successful, failed, total_duration_ms, min_duration_ms,
    max_duration_ms, last_request_at, zero_count, duration_histogram
)
SELECT
    r.route, r.method, r.period_start, r.period_start + INTERVAL '24 hours', r.total_requests, r.successful, r.failed,
    r.total_duration_ms, r.min_duration_ms, r.max_duration_ms, r.last_request_at, r.zero_count, r.duration_histogram
FROM pgmetrics.route_metrics_rollup AS r
WHERE r.grain = 'day' AND r.zone = 'UTC';

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

-- Writers wait until the triggers exist and the days already recorded are summed, so no row escapes the daily tier.
LOCK TABLE pgmetrics.route_metrics IN SHARE ROW EXCLUSIVE MODE;

-- PostgreSQL allows transition tables on single-event triggers only: one trigger per event. An upsert
-- (INSERT ... ON CONFLICT DO UPDATE) fires both. DELETE has none: the daily tier outlives expired hourly rows.
CREATE TRIGGER route_metrics_daily_insert
AFTER INSERT ON pgmetrics.route_metrics
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION pgmetrics._route_metrics_daily_apply();

CREATE TRIGGER route_metrics_daily_update
AFTER UPDATE ON pgmetrics.route_metrics
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION pgmetrics._route_metrics_daily_apply();

-- Hourly rows recorded before the daily tier existed; days already summed are left as they are.
INSERT INTO pgmetrics.route_metrics_daily (
    route, method, period_start, period_end, total_requests, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
)
SELECT
    h.route,
    h.method,
    pg_catalog.date_trunc('day', h.period_start, 'UTC') AS period_start,
    pg_catalog.date_trunc('day', h.period_start, 'UTC') + interval '24 hours' AS period_end,
    pg_catalog.sum(h.total_requests) AS total_requests,
    pg_catalog.sum(h.successful) AS successful,
    pg_catalog.sum(h.failed) AS failed,
    pg_catalog.sum(h.total_duration_ms) AS total_duration_ms,
    pg_catalog.min(h.min_duration_ms) AS min_duration_ms,
    pg_catalog.max(h.max_duration_ms) AS max_duration_ms,
    pg_catalog.max(h.last_request_at) AS last_request_at,
    pg_catalog.sum(h.zero_count) AS zero_count,
    pgmetrics._histogram_merge_agg(h.duration_histogram) AS duration_histogram
FROM pgmetrics.route_metrics AS h
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT ON CONSTRAINT route_metrics_daily_pkey DO NOTHING;

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


INSERT INTO pgmetrics.operation_metrics_daily (
    operation, period_start, period_end, total_executions, successful, failed, total_duration_ms, min_duration_ms,
    max_duration_ms, last_execution_at, zero_count, duration_histogram
)
SELECT
    r.operation, r.period_start, r.period_start + INTERVAL '24 hours', r.total_executions, r.successful, r.failed,
    r.total_duration_ms, r.min_duration_ms, r.max_duration_ms, r.last_execution_at, r.zero_count, r.duration_histogram
FROM pgmetrics.operation_metrics_rollup AS r
WHERE r.grain = 'day' AND r.zone = 'UTC';

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

-- Writers wait until the triggers exist and the days already recorded are summed, so no row escapes the daily tier.
LOCK TABLE pgmetrics.operation_metrics IN SHARE ROW EXCLUSIVE MODE;

-- PostgreSQL allows transition tables on single-event triggers only: one trigger per event. An upsert
-- (INSERT ... ON CONFLICT DO UPDATE) fires both. DELETE has none: the daily tier outlives expired hourly rows.
CREATE TRIGGER operation_metrics_daily_insert
AFTER INSERT ON pgmetrics.operation_metrics
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION pgmetrics._operation_metrics_daily_apply();

CREATE TRIGGER operation_metrics_daily_update
AFTER UPDATE ON pgmetrics.operation_metrics
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION pgmetrics._operation_metrics_daily_apply();

-- Hourly rows recorded before the daily tier existed; days already summed are left as they are.
INSERT INTO pgmetrics.operation_metrics_daily (
    operation, period_start, period_end, total_executions, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram
)
SELECT
    h.operation,
    pg_catalog.date_trunc('day', h.period_start, 'UTC') AS period_start,
    pg_catalog.date_trunc('day', h.period_start, 'UTC') + interval '24 hours' AS period_end,
    pg_catalog.sum(h.total_executions) AS total_executions,
    pg_catalog.sum(h.successful) AS successful,
    pg_catalog.sum(h.failed) AS failed,
    pg_catalog.sum(h.total_duration_ms) AS total_duration_ms,
    pg_catalog.min(h.min_duration_ms) AS min_duration_ms,
    pg_catalog.max(h.max_duration_ms) AS max_duration_ms,
    pg_catalog.max(h.last_execution_at) AS last_execution_at,
    pg_catalog.sum(h.zero_count) AS zero_count,
    pgmetrics._histogram_merge_agg(h.duration_histogram) AS duration_histogram
FROM pgmetrics.operation_metrics AS h
GROUP BY 1, 2
ORDER BY 1, 2
ON CONFLICT ON CONSTRAINT operation_metrics_daily_pkey DO NOTHING;


COMMIT;
