-- requires: pg_cron
BEGIN;
SELECT plan(6);

-- CREATE EXTENSION pg_cron grants USAGE on schema cron to nobody: a schema owner that is not a
-- superuser is told the one GRANT it needs, then schedules and unschedules as itself.
CREATE FUNCTION pg_temp.hint_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_hint text;
BEGIN
    EXECUTE statement;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_hint = PG_EXCEPTION_HINT;
    RETURN v_hint;
END
$$;

CREATE ROLE pgmetrics_test_owner LOGIN;
GRANT USAGE ON SCHEMA pgmetrics TO pgmetrics_test_owner;
GRANT EXECUTE ON FUNCTION pgmetrics.schedule_fold(text), pgmetrics.unschedule_fold() TO pgmetrics_test_owner;
SET ROLE pgmetrics_test_owner;
SELECT throws_like($$SELECT pgmetrics.schedule_fold()$$, 'permission denied for schema cron%',
    'without USAGE on schema cron: permission denied, for schema cron');
SELECT is(
    pg_temp.hint_of('SELECT pgmetrics.schedule_fold()'),
    'As a superuser in database ' || current_database()
    || ': GRANT USAGE ON SCHEMA cron TO pgmetrics_test_owner; Then SELECT pgmetrics.schedule_fold(); again.',
    'the hint is the GRANT to run'
);
SELECT throws_ok($$SELECT pgmetrics.unschedule_fold()$$, '42501', NULL, 'unscheduling says the same');
RESET ROLE;

GRANT USAGE ON SCHEMA cron TO pgmetrics_test_owner;
SET ROLE pgmetrics_test_owner;
SELECT ok(pgmetrics.schedule_fold() > 0, 'with the GRANT the owner schedules the fold');
SELECT is(
    (SELECT username::text FROM cron.job WHERE jobname = 'pgmetrics_fold'), 'pgmetrics_test_owner',
    'the job runs as the owner'
);
SELECT is(pgmetrics.unschedule_fold(), true, 'and unschedules it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
