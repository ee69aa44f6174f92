-- Revert pgmetrics:function_report_status from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION pgmetrics.report_status()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cron jsonb;
BEGIN
    IF pg_catalog.to_regclass('cron.job') IS NOT NULL THEN
        SELECT pg_catalog.jsonb_build_object('jobid', j.jobid, 'schedule', j.schedule, 'active', j.active)
        INTO v_cron
        FROM cron.job AS j
        WHERE j.jobname = 'pgmetrics_retention';
    END IF;
    RETURN pg_catalog.jsonb_build_object(
        'tiers', pg_catalog.jsonb_build_object(
            'route_metrics', (SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics),
            'operation_metrics', (SELECT pg_catalog.count(*) FROM pgmetrics.operation_metrics),
            'route_metrics_daily', (SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics_daily),
            'operation_metrics_daily', (SELECT pg_catalog.count(*) FROM pgmetrics.operation_metrics_daily),
            'ingested_batches', (SELECT pg_catalog.count(*) FROM pgmetrics.ingested_batches),
            -- Pending events not folded yet.
            'route_events', (SELECT pg_catalog.count(*) FROM pgmetrics.route_events),
            'operation_events', (SELECT pg_catalog.count(*) FROM pgmetrics.operation_events)
        ),
        'oldest_detail', (SELECT pg_catalog.min(m.period_start) FROM pgmetrics.route_metrics AS m),
        'newest_detail', (SELECT pg_catalog.max(m.period_end) FROM pgmetrics.route_metrics AS m),
        'settings', (SELECT pg_catalog.jsonb_object_agg(s.name, s.value) FROM pgmetrics.settings AS s),
        'last_retention_run', (
            SELECT pg_catalog.jsonb_build_object('started_at', r.started_at, 'result', r.result)
            FROM pgmetrics.retention_runs AS r
            ORDER BY r.started_at DESC
            LIMIT 1
        ),
        'pg_cron', pg_catalog.to_regclass('cron.job') IS NOT NULL,
        'retention_job', v_cron
    );
END
$$;

COMMENT ON FUNCTION pgmetrics.report_status() IS
'Returns jsonb describing the store: row counts per tier (hourly detail, daily summaries, remembered batch ids, '
'pending events not folded yet), '
'the oldest and newest hour of route detail, the settings, the last run_retention() and its result, whether '
'pg_cron is installed here and the pgmetrics_retention job if scheduled. Raises nothing of its own. '
'EXECUTE for pgmetrics_reader.';

REVOKE ALL ON FUNCTION pgmetrics.report_status() FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.report_status() TO pgmetrics_reader;

COMMIT;
