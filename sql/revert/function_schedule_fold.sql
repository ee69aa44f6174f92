-- Revert pgmetrics:function_schedule_fold from pg: back to the body of @v0.6.0

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- pg_cron is optional: this change deploys without it, and the function explains at call time.
DROP FUNCTION pgmetrics.schedule_fold(text);

CREATE FUNCTION pgmetrics.schedule_fold(schedule text DEFAULT '* * * * *')
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF schedule_fold.schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                HINT = 'Set shared_preload_libraries = ''pg_cron'' and cron.database_name to this database, '
                    'restart, then CREATE EXTENSION pg_cron; or have any scheduler run '
                    'SELECT pgmetrics.fold_events() every minute.';
    END IF;
    -- pg_cron replaces a job of the same name and owner, so scheduling twice leaves one job.
    RETURN cron.schedule('pgmetrics_fold', schedule_fold.schedule, 'SELECT pgmetrics.fold_events()');
END
$$;

COMMENT ON FUNCTION pgmetrics.schedule_fold(text) IS
'Registers (or re-registers) the pg_cron job pgmetrics_fold that runs SELECT pgmetrics.fold_events() on schedule '
'(cron syntax, default * * * * *: every minute) and returns its job id. Raises 55000 when pg_cron is not installed '
'in this database, 22004 for a NULL schedule; pg_cron raises for an invalid schedule. For the schema owner only.';

REVOKE ALL ON FUNCTION pgmetrics.schedule_fold(text) FROM public;

COMMIT;
