-- Deploy pgmetrics:function_report_status to pg
-- requires: table_route_metrics_rollup
-- requires: table_operation_metrics_rollup
-- requires: table_route_cells
-- requires: table_operation_cells
-- requires: table_report_zones

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.report_status();

CREATE FUNCTION pgmetrics.report_status()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $$
DECLARE
    v_retention_job jsonb;
    v_fold_job jsonb;
    -- to_regclass('cron.job') raises without USAGE on schema cron, which the owner may lack: the
    -- schema's oid and the privilege are read without touching it.
    v_pg_cron boolean := pg_catalog.to_regnamespace('cron') IS NOT NULL;
    v_cron_readable boolean := v_pg_cron AND pg_catalog.has_schema_privilege('cron', 'USAGE');
BEGIN
    IF v_cron_readable THEN
        SELECT pg_catalog.jsonb_build_object('jobid', j.jobid, 'schedule', j.schedule, 'active', j.active)
        INTO v_retention_job
        FROM cron.job AS j
        WHERE j.jobname = 'pgmetrics_retention';
        SELECT pg_catalog.jsonb_build_object('jobid', j.jobid, 'schedule', j.schedule, 'active', j.active)
        INTO v_fold_job
        FROM cron.job AS j
        WHERE j.jobname = 'pgmetrics_fold';
    END IF;
    RETURN pg_catalog.jsonb_build_object(
        'tiers', pg_catalog.jsonb_build_object(
            'route_metrics', (SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics),
            'operation_metrics', (SELECT pg_catalog.count(*) FROM pgmetrics.operation_metrics),
            'route_metrics_rollup', (SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics_rollup),
            'operation_metrics_rollup', (SELECT pg_catalog.count(*) FROM pgmetrics.operation_metrics_rollup),
            'ingested_batches', (SELECT pg_catalog.count(*) FROM pgmetrics.ingested_batches),
            -- Pending cells and events not folded yet.
            'route_cells', (SELECT pg_catalog.count(*) FROM pgmetrics.route_cells),
            'operation_cells', (SELECT pg_catalog.count(*) FROM pgmetrics.operation_cells),
            'route_events', (SELECT pg_catalog.count(*) FROM pgmetrics.route_events),
            'operation_events', (SELECT pg_catalog.count(*) FROM pgmetrics.operation_events)
        ),
        'oldest_detail', (SELECT pg_catalog.min(m.period_start) FROM pgmetrics.route_metrics AS m),
        'newest_detail', (SELECT pg_catalog.max(m.period_end) FROM pgmetrics.route_metrics AS m),
        'settings', (SELECT pg_catalog.jsonb_object_agg(s.name, s.value) FROM pgmetrics.settings AS s),
        'report_zones', (
            SELECT COALESCE(pg_catalog.jsonb_agg(z.zone ORDER BY z.zone), '[]'::jsonb) FROM pgmetrics.report_zones AS z
        ),
        'last_retention_run', (
            SELECT pg_catalog.jsonb_build_object('started_at', r.started_at, 'result', r.result)
            FROM pgmetrics.retention_runs AS r
            ORDER BY r.started_at DESC
            LIMIT 1
        ),
        'pg_cron', v_pg_cron,
        'cron_readable', v_cron_readable,
        'owner', CURRENT_USER,
        'retention_job', v_retention_job,
        'fold_job', v_fold_job
    );
END
$$;

COMMENT ON FUNCTION pgmetrics.report_status() IS
'Returns jsonb describing the store: row counts per tier (hourly detail, rollups, remembered batch ids, pending '
'cells and events not folded yet), the oldest and newest hour of route detail, the settings, the report zones, the '
'last run_retention() and its result (a skipped run included), whether pg_cron is installed here (pg_cron), '
'whether the schema owner may read its jobs (cron_readable: USAGE on schema cron), the owner, and the '
'pgmetrics_retention and pgmetrics_fold jobs if scheduled (null otherwise). Raises nothing of its own. EXECUTE for '
'pgmetrics_reader.';

REVOKE ALL ON FUNCTION pgmetrics.report_status() FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.report_status() TO pgmetrics_reader;

COMMIT;
