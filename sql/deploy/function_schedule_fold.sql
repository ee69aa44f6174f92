-- Deploy pgmetrics:function_schedule_fold to pg
-- requires: function_fold_events

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- pg_cron is optional: this change deploys without it, and the function says at call time what
-- to run to have it, since the setup takes a superuser and the caller usually is not one.
DROP FUNCTION pgmetrics.schedule_fold(text);

CREATE FUNCTION pgmetrics.schedule_fold(schedule text DEFAULT '* * * * *')
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $$
DECLARE
    v_grant text := '';
    v_install text := '';
BEGIN
    IF schedule_fold.schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- cron.schedule needs USAGE on schema cron, which CREATE EXTENSION grants to nobody.
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = CURRENT_USER) THEN
        v_grant := pg_catalog.format(' GRANT USAGE ON SCHEMA cron TO %I;', CURRENT_USER);
    END IF;
    IF pg_catalog.to_regnamespace('cron') IS NULL THEN
        -- Whether pg_cron is preloaded is for superusers to read: the hint names both steps.
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_available_extensions AS e WHERE e.name = 'pg_cron') THEN
            v_install := pg_catalog.format(
                'Install pg_cron on the server (Debian: apt-get install postgresql-%s-cron). ',
                pg_catalog.current_setting('server_version_num')::int / 10000
            );
        END IF;
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                HINT = v_install || pg_catalog.format(
                    'As a superuser, unless done already: ALTER SYSTEM SET shared_preload_libraries = ''pg_cron''; '
                    '(keeping any library it lists) ALTER SYSTEM SET cron.database_name = %L; then restart the '
                    'server. Then, as a superuser in database %I: CREATE EXTENSION pg_cron;%s '
                    'Then SELECT pgmetrics.schedule_fold(); again. Without pg_cron, have any scheduler run '
                    'SELECT pgmetrics.fold_events() every minute.',
                    pg_catalog.current_database(), pg_catalog.current_database(), v_grant
                );
    END IF;
    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema cron: % may not schedule pg_cron jobs', CURRENT_USER
            USING ERRCODE = 'insufficient_privilege',
                HINT = pg_catalog.format('As a superuser in database %I:', pg_catalog.current_database()) || v_grant
                    || ' Then SELECT pgmetrics.schedule_fold(); again.';
    END IF;
    -- pg_cron replaces a job of the same name and owner, so scheduling twice leaves one job.
    RETURN cron.schedule('pgmetrics_fold', schedule_fold.schedule, 'SELECT pgmetrics.fold_events()');
END
$$;

COMMENT ON FUNCTION pgmetrics.schedule_fold(text) IS
'Registers (or re-registers) the pg_cron job pgmetrics_fold that runs SELECT pgmetrics.fold_events() on '
'schedule (cron syntax, default * * * * *: every minute) and returns its job id. Raises 55000 when pg_cron is not '
'installed in this database and 42501 when the role lacks USAGE on schema cron, each with a hint giving the '
'commands to run; 22004 for a NULL schedule; pg_cron raises for an invalid schedule. For the schema owner only.';

REVOKE ALL ON FUNCTION pgmetrics.schedule_fold(text) FROM public;

COMMIT;
