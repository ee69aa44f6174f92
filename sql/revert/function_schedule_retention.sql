-- Revert pgmetrics:function_schedule_retention from pg: back to the body of @v0.6.0

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- pg_cron is optional: this change deploys without it, and the function explains at call time.
DROP FUNCTION pgmetrics.schedule_retention(text);

CREATE FUNCTION pgmetrics.schedule_retention(schedule text DEFAULT '17 3 * * *')
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF schedule_retention.schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                HINT = 'Set shared_preload_libraries = ''pg_cron'' and cron.database_name to this database, '
                    'restart, then CREATE EXTENSION pg_cron; or have any scheduler run '
                    'SELECT pgmetrics.run_retention() once a day.';
    END IF;
    -- pg_cron replaces a job of the same name and owner, so scheduling twice leaves one job.
    RETURN cron.schedule('pgmetrics_retention', schedule_retention.schedule, 'SELECT pgmetrics.run_retention()');
END
$$;

COMMENT ON FUNCTION pgmetrics.schedule_retention(text) IS
'Registers (or re-registers) the pg_cron job pgmetrics_retention that runs SELECT pgmetrics.run_retention() on '
'schedule (cron syntax, default 17 3 * * *: daily at 03:17 in the server''s cron.timezone) and returns its job id. '
'Raises 55000 when pg_cron is not installed in this database, 22004 for a NULL schedule; pg_cron raises for an '
'invalid schedule. For the schema owner only.';

REVOKE ALL ON FUNCTION pgmetrics.schedule_retention(text) FROM public;

COMMIT;
