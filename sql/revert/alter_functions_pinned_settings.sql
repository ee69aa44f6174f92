-- Revert pgmetrics:alter_functions_pinned_settings from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

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
        EXECUTE pg_catalog.format('ALTER FUNCTION %s RESET timezone RESET datestyle RESET intervalstyle', v_function);
    END LOOP;
END
$$;

-- The jsonb form of ingest_batch pinned its TimeZone before this change.
ALTER FUNCTION pgmetrics.ingest_batch(uuid, jsonb, jsonb) SET timezone = 'UTC';

COMMIT;
