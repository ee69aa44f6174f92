-- Deploy pgmetrics:alter_functions_pinned_settings to pg
-- requires: function__fold_events
-- requires: function_run_retention
-- requires: function_ingest_batch
-- requires: function_record_route_metric
-- requires: function_record_operation_metric

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * What a function computes must not depend on its caller's session. timestamptz + interval '1 day' or '1 month'
 * counts days and months in the session's TimeZone, and a timestamptz or interval rendered as text (format('%L'),
 * a cast, jsonb) follows TimeZone, DateStyle and IntervalStyle: a writer in Asia/Shanghai under DateStyle 'SQL, MDY'
 * once created a daily partition bounded at 14:00 UTC. Every function below therefore pins the three settings
 * besides search_path (functions created or reworked since carry them in their own SET clauses).
 *
 * Left alone: the per-element histogram helpers (pgmetrics._histogram_*, including the step and final functions of
 * the _histogram_merge_agg aggregate). They are called once per row or per histogram element, work on int arrays and
 * doubles only, and a SET clause would save and restore the settings on every call; aggregates themselves take no
 * SET clause.
 * Nor record_route_metric and record_operation_metric: they run once per request, store nothing that reads the
 * settings, and the three extra settings cost each call a save and restore of its own.
 */
DO $$
DECLARE
    v_function regprocedure;
BEGIN
    FOR v_function IN
        SELECT p.oid::regprocedure
        FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace = 'pgmetrics'::regnamespace
            AND p.proname = ANY(ARRAY[
                '_check_batch_cell', '_check_cell', '_check_method', '_check_name', '_check_summary_range',
                '_fold_events', '_setting', 'ingest_batch',
                'route_metrics_summary', 'operation_metrics_summary', 'remove_report_zone', 'report_status',
                'run_retention', 'schedule_fold', 'schedule_retention', 'set_setting', 'unschedule_fold',
                'unschedule_retention'
            ])
        ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format(
            'ALTER FUNCTION %s SET timezone = ''UTC'' SET datestyle = ''ISO, YMD'' SET intervalstyle = ''postgres''',
            v_function
        );
    END LOOP;
END
$$;

COMMIT;
