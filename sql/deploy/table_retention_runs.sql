-- Deploy pgmetrics:table_retention_runs to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE TABLE pgmetrics.retention_runs (
    started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    result jsonb NOT NULL,
    CONSTRAINT retention_runs_pkey PRIMARY KEY (started_at)
);

ALTER TABLE pgmetrics.retention_runs ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.retention_runs FROM public;

COMMENT ON TABLE pgmetrics.retention_runs IS
'One row per run_retention() that did its work, with what it returned; pruned by the same run after '
'summary_retention_days.';

COMMIT;
