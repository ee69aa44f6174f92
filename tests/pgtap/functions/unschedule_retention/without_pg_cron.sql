BEGIN;
SELECT plan(4);

SELECT throws_ok($$SELECT pgmetrics.unschedule_retention()$$, '55000', 'pg_cron is not installed in this database',
    'without pg_cron: 55000, explained');
SELECT function_privs_are('pgmetrics', 'unschedule_retention', ARRAY[]::text[], 'pgmetrics_writer', ARRAY[]::text[],
    'the writer may not unschedule');
SELECT function_privs_are('pgmetrics', 'unschedule_retention', ARRAY[]::text[], 'pgmetrics_reader', ARRAY[]::text[],
    'the reader may not unschedule');
SELECT function_privs_are('pgmetrics', 'unschedule_retention', ARRAY[]::text[], 'public', ARRAY[]::text[],
    'PUBLIC may not unschedule');

SELECT * FROM finish();
ROLLBACK;
