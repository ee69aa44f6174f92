-- Deploy pgmetrics:table_rollup_watermark to pg
-- requires: partition_hourly_metrics
-- requires: table_route_metrics_rollup
-- requires: table_operation_metrics_rollup

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * The fold rolls an hour up into the day, week, month and local-day rollups once, when the hour is over, not on
 * every fold: a busy key then costs each minute's fold one row rewritten instead of six. The rollups hold exactly
 * the hourly rows before rolled_until; readers add the hourly rows from rolled_until on to the rollup periods that
 * hold them. Only the fold moves it, forward, in the transaction that rolls those hours up.
 */
CREATE TABLE pgmetrics.rollup_watermark (
    one boolean PRIMARY KEY DEFAULT TRUE,
    rolled_until timestamptz NOT NULL,
    CONSTRAINT rollup_watermark_one_check CHECK (one),
    CONSTRAINT rollup_watermark_hour_check CHECK (rolled_until = pg_catalog.date_trunc('hour', rolled_until, 'UTC'))
);

-- Every hourly row stored so far is already in the rollups: the watermark starts after the last of them.
INSERT INTO pgmetrics.rollup_watermark (rolled_until)
SELECT greatest(
    pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC'),
    (SELECT pg_catalog.max(m.period_start) + interval '1 hour' FROM pgmetrics.route_metrics AS m),
    (SELECT pg_catalog.max(m.period_start) + interval '1 hour' FROM pgmetrics.operation_metrics AS m)
);

ALTER TABLE pgmetrics.rollup_watermark ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.rollup_watermark FROM public;

COMMENT ON TABLE pgmetrics.rollup_watermark IS
'One row: the rollups (route_metrics_rollup, operation_metrics_rollup) hold the hourly rows before rolled_until; '
'the hours from rolled_until on are in the hourly tier only, until fold_events rolls them up once they are over.';

COMMIT;
