BEGIN;
SELECT plan(5);

-- The setup takes a superuser and the caller is usually the schema owner, who is not one: the
-- hint is the whole list of commands to hand over, with this database and role in them.
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

SELECT throws_ok($$SELECT pgmetrics.schedule_retention()$$, '55000', 'pg_cron is not installed in this database',
    'without pg_cron: 55000');
SELECT matches(
    pg_temp.hint_of('SELECT pgmetrics.schedule_retention()'),
    'ALTER SYSTEM SET shared_preload_libraries = ''pg_cron''.*ALTER SYSTEM SET cron.database_name = '''
    || current_database() || '''.*restart.*CREATE EXTENSION pg_cron;',
    'the hint gives the preload, the database and CREATE EXTENSION'
);
SELECT unalike(
    pg_temp.hint_of('SELECT pgmetrics.schedule_retention()'), '%GRANT USAGE%', 'a superuser is not told to grant itself'
);

CREATE ROLE pgmetrics_test_owner LOGIN;
GRANT USAGE ON SCHEMA pgmetrics TO pgmetrics_test_owner;
GRANT EXECUTE ON FUNCTION pgmetrics.schedule_retention(text) TO pgmetrics_test_owner;
SET ROLE pgmetrics_test_owner;
SELECT matches(
    pg_temp.hint_of('SELECT pgmetrics.schedule_retention()'),
    'CREATE EXTENSION pg_cron; GRANT USAGE ON SCHEMA cron TO pgmetrics_test_owner;',
    'a role that is not a superuser is told the grant it needs too'
);
SELECT matches(
    pg_temp.hint_of('SELECT pgmetrics.schedule_retention()'),
    'any scheduler run SELECT pgmetrics.run_retention\(\) once a day',
    'the hint names retention for any other scheduler'
);
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
