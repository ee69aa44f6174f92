-- Revert pgmetrics:partition_hourly_metrics from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Back to one table per tier, keeping every row, the default partition's included.
DROP VIEW pgmetrics.route_metrics_by_hour;
DROP VIEW pgmetrics.operation_metrics_by_hour;

ALTER TABLE pgmetrics.route_metrics RENAME TO route_metrics_partitioned;
ALTER INDEX pgmetrics.route_metrics_pkey RENAME TO route_metrics_partitioned_pkey;
ALTER INDEX pgmetrics.route_metrics_period_start_idx RENAME TO route_metrics_partitioned_period_start_idx;
ALTER TABLE pgmetrics.operation_metrics RENAME TO operation_metrics_partitioned;
ALTER INDEX pgmetrics.operation_metrics_pkey RENAME TO operation_metrics_partitioned_pkey;
ALTER INDEX pgmetrics.operation_metrics_period_start_idx RENAME TO operation_metrics_partitioned_period_start_idx;

CREATE TABLE pgmetrics.route_metrics (
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
    zero_count bigint NOT NULL DEFAULT 0,
    duration_histogram int[] NOT NULL DEFAULT '{}',
    duration_quantiles double precision[],
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT route_metrics_pkey PRIMARY KEY (route, method, period_start),
    CONSTRAINT route_metrics_period_check CHECK (
        period_start = pg_catalog.date_trunc('hour', period_start, 'UTC')
        AND period_end = period_start + interval '1 hour'
    ),
    CONSTRAINT route_metrics_counts_check CHECK (
        successful >= 0 AND failed >= 0 AND total_requests = successful + failed AND total_requests > 0
    ),
    CONSTRAINT route_metrics_durations_check CHECK (
        0 <= min_duration_ms AND min_duration_ms <= max_duration_ms AND total_duration_ms >= 0
        AND zero_count BETWEEN 0 AND total_requests
    )
);

-- Time-range scans over all keys (summaries, retention) read this index, not the whole table.
CREATE INDEX route_metrics_period_start_idx ON pgmetrics.route_metrics (period_start);

ALTER TABLE pgmetrics.route_metrics ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.route_metrics FROM public;

COMMENT ON TABLE pgmetrics.route_metrics IS
'Hourly detail of route metrics: one row per route template, HTTP method and UTC hour. '
'Written by the recording functions.';
COMMENT ON COLUMN pgmetrics.route_metrics.duration_quantiles IS
'p50, p95 and p99 of the row''s histogram, written by fold_events with the histogram.';

CREATE TABLE pgmetrics.operation_metrics (
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
    zero_count bigint NOT NULL DEFAULT 0,
    duration_histogram int[] NOT NULL DEFAULT '{}',
    duration_quantiles double precision[],
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT operation_metrics_pkey PRIMARY KEY (operation, period_start),
    CONSTRAINT operation_metrics_period_check CHECK (
        period_start = pg_catalog.date_trunc('hour', period_start, 'UTC')
        AND period_end = period_start + interval '1 hour'
    ),
    CONSTRAINT operation_metrics_counts_check CHECK (
        successful >= 0 AND failed >= 0 AND total_executions = successful + failed AND total_executions > 0
    ),
    CONSTRAINT operation_metrics_durations_check CHECK (
        0 <= min_duration_ms AND min_duration_ms <= max_duration_ms AND total_duration_ms >= 0
        AND zero_count BETWEEN 0 AND total_executions
    )
);

-- Time-range scans over all keys (summaries, retention) read this index, not the whole table.
CREATE INDEX operation_metrics_period_start_idx ON pgmetrics.operation_metrics (period_start);

ALTER TABLE pgmetrics.operation_metrics ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.operation_metrics FROM public;

COMMENT ON TABLE pgmetrics.operation_metrics IS
'Hourly detail of operation metrics: one row per operation name and UTC hour. '
'Written by the recording functions.';
COMMENT ON COLUMN pgmetrics.operation_metrics.duration_quantiles IS
'p50, p95 and p99 of the row''s histogram, written by fold_events with the histogram.';

INSERT INTO pgmetrics.route_metrics (
    route, method, period_start, period_end, total_requests, successful, failed, total_duration_ms,
    min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram, duration_quantiles,
    created_at, updated_at
)
SELECT
    route,
    method,
    period_start,
    period_end,
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
    created_at,
    updated_at
FROM pgmetrics.route_metrics_partitioned;
DROP TABLE pgmetrics.route_metrics_partitioned;

INSERT INTO pgmetrics.operation_metrics (
    operation, period_start, period_end, total_executions, successful, failed, total_duration_ms,
    min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram, duration_quantiles,
    created_at, updated_at
)
SELECT
    operation,
    period_start,
    period_end,
    total_executions,
    successful,
    failed,
    total_duration_ms,
    min_duration_ms,
    max_duration_ms,
    last_execution_at,
    zero_count,
    duration_histogram,
    duration_quantiles,
    created_at,
    updated_at
FROM pgmetrics.operation_metrics_partitioned;
DROP TABLE pgmetrics.operation_metrics_partitioned;

-- The hourly detail tier as it is: one row per key and UTC hour.
-- Not security_invoker: the view reads the tables as its owner, the schema owner, so the reader needs SELECT on the
-- view only and the tables keep no privileges for the roles.
CREATE VIEW pgmetrics.route_metrics_by_hour WITH (security_invoker = FALSE) AS
-- The columns come in the order of the summary functions, calculated or not.
SELECT  -- noqa: ST06
    m.period_start AS bucket_start,
    m.route,
    m.method,
    m.total_requests,
    m.successful,
    m.failed,
    m.failed::double precision / m.total_requests::double precision AS error_rate,
    m.total_duration_ms,
    m.total_duration_ms / m.total_requests::double precision AS average_duration_ms,
    m.min_duration_ms,
    m.max_duration_ms,
    m.duration_quantiles[1] AS p50_duration_ms,
    m.duration_quantiles[2] AS p95_duration_ms,
    m.duration_quantiles[3] AS p99_duration_ms,
    m.last_request_at
FROM pgmetrics.route_metrics AS m;

COMMENT ON VIEW pgmetrics.route_metrics_by_hour IS
'Route metrics per UTC hour, for dashboards and psql: the columns of route_metrics_summary. '
'Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.route_metrics_by_hour FROM public;
GRANT SELECT ON pgmetrics.route_metrics_by_hour TO pgmetrics_reader;

-- The hourly detail tier as it is: one row per key and UTC hour.
-- Not security_invoker: the view reads the tables as its owner, the schema owner, so the reader needs SELECT on the
-- view only and the tables keep no privileges for the roles.
CREATE VIEW pgmetrics.operation_metrics_by_hour WITH (security_invoker = FALSE) AS
-- The columns come in the order of the summary functions, calculated or not.
SELECT  -- noqa: ST06
    m.period_start AS bucket_start,
    m.operation,
    m.total_executions,
    m.successful,
    m.failed,
    m.failed::double precision / m.total_executions::double precision AS error_rate,
    m.total_duration_ms,
    m.total_duration_ms / m.total_executions::double precision AS average_duration_ms,
    m.min_duration_ms,
    m.max_duration_ms,
    m.duration_quantiles[1] AS p50_duration_ms,
    m.duration_quantiles[2] AS p95_duration_ms,
    m.duration_quantiles[3] AS p99_duration_ms,
    m.last_execution_at
FROM pgmetrics.operation_metrics AS m;

COMMENT ON VIEW pgmetrics.operation_metrics_by_hour IS
'Operation metrics per UTC hour, for dashboards and psql: the columns of operation_metrics_summary. '
'Readable by pgmetrics_reader.';

REVOKE ALL ON pgmetrics.operation_metrics_by_hour FROM public;
GRANT SELECT ON pgmetrics.operation_metrics_by_hour TO pgmetrics_reader;

COMMIT;
