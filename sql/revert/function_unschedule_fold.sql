-- Revert pgmetrics:function_unschedule_fold from pg: back to the body of @v0.6.0

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.unschedule_fold();

CREATE FUNCTION pgmetrics.unschedule_fold()
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                HINT = 'Nothing is scheduled by pg_cron here; any other scheduler is stopped where it runs.';
    END IF;
    -- cron.unschedule raises for an unknown name: look first so that unscheduling twice is fine.
    IF NOT EXISTS (
        SELECT FROM cron.job AS j WHERE j.jobname = 'pgmetrics_fold' AND j.username = CURRENT_USER
    ) THEN
        RETURN FALSE;
    END IF;
    RETURN cron.unschedule('pgmetrics_fold');
END
$$;

COMMENT ON FUNCTION pgmetrics.unschedule_fold() IS
'Removes the pg_cron job pgmetrics_fold; returns true if it existed and false if there was none. Raises 55000 '
'when pg_cron is not installed in this database. For the schema owner only.';

REVOKE ALL ON FUNCTION pgmetrics.unschedule_fold() FROM public;

COMMIT;
