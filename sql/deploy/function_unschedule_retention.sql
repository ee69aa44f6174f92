-- Deploy pgmetrics:function_unschedule_retention to pg
-- requires: function_schedule_retention

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.unschedule_retention();

CREATE FUNCTION pgmetrics.unschedule_retention()
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $$
BEGIN
    IF pg_catalog.to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                HINT = 'Nothing is scheduled by pg_cron here; any other scheduler is stopped where it runs.';
    END IF;
    -- Reading cron.job needs USAGE on schema cron: say which grant, not just "permission denied".
    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema cron: % may not read its pg_cron jobs', CURRENT_USER
            USING ERRCODE = 'insufficient_privilege',
                HINT = pg_catalog.format(
                    'As a superuser in database %I: GRANT USAGE ON SCHEMA cron TO %I;',
                    pg_catalog.current_database(), CURRENT_USER
                );
    END IF;
    -- cron.unschedule raises for an unknown name: look first so that unscheduling twice is fine.
    IF NOT EXISTS (
        SELECT FROM cron.job AS j WHERE j.jobname = 'pgmetrics_retention' AND j.username = CURRENT_USER
    ) THEN
        RETURN FALSE;
    END IF;
    RETURN cron.unschedule('pgmetrics_retention');
END
$$;

COMMENT ON FUNCTION pgmetrics.unschedule_retention() IS
'Removes the pg_cron job pgmetrics_retention; returns true if it existed and false if there was none. Raises 55000 '
'when pg_cron is not installed in this database and 42501, with the GRANT to run, when the role lacks USAGE on '
'schema cron. For the schema owner only.';

REVOKE ALL ON FUNCTION pgmetrics.unschedule_retention() FROM public;

COMMIT;
