BEGIN;
SELECT plan(6);

-- Scheduling is the schema owner's: SECURITY INVOKER, so the job runs as the caller, and no grant.
SELECT isnt_definer('pgmetrics', 'schedule_retention', ARRAY['text'], 'schedule_retention runs as its caller');
SELECT isnt_definer('pgmetrics', 'unschedule_retention', ARRAY[]::text[], 'unschedule_retention runs as its caller');
SELECT function_privs_are('pgmetrics', 'schedule_retention', ARRAY['text'], 'pgmetrics_writer', ARRAY[]::text[],
    'the writer may not schedule');
SELECT function_privs_are('pgmetrics', 'schedule_retention', ARRAY['text'], 'pgmetrics_reader', ARRAY[]::text[],
    'the reader may not schedule');
SELECT function_privs_are('pgmetrics', 'schedule_retention', ARRAY['text'], 'public', ARRAY[]::text[],
    'PUBLIC may not schedule');
CREATE ROLE pgmetrics_test_writer LOGIN;
GRANT pgmetrics_writer TO pgmetrics_test_writer;
SET ROLE pgmetrics_test_writer;
SELECT throws_ok($$SELECT pgmetrics.schedule_retention()$$, '42501', NULL, 'a member of pgmetrics_writer is denied');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
