-- requires: pg_cron
BEGIN;
SELECT plan(9);

SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname = 'pgmetrics_retention'), 0, 'no job to begin with');
CREATE TEMP TABLE scheduled AS SELECT pgmetrics.schedule_retention() AS jobid;
SELECT is(
    (SELECT ARRAY[jobid::text, schedule, command, database, username] FROM cron.job WHERE jobname = 'pgmetrics_retention'),
    ARRAY[(SELECT jobid::text FROM scheduled), '17 3 * * *', 'SELECT pgmetrics.run_retention()', current_database()::text,
          current_user::text],
    'the default schedule: run_retention daily at 03:17 in this database, under the job id returned'
);
SELECT is(
    pgmetrics.schedule_retention('5 4 * * *'), (SELECT jobid FROM scheduled),
    'scheduling again keeps the job id'
);
SELECT is(
    (SELECT array_agg(schedule) FROM cron.job WHERE jobname = 'pgmetrics_retention'),
    ARRAY['5 4 * * *'],
    'scheduling again replaces the schedule and leaves one job'
);
SELECT is(
    pgmetrics.report_status() -> 'retention_job',
    jsonb_build_object('jobid', (SELECT jobid FROM scheduled), 'schedule', '5 4 * * *', 'active', true),
    'report_status reports the job'
);
SELECT is((pgmetrics.report_status() ->> 'pg_cron')::boolean, true, 'report_status says pg_cron is installed');
SELECT throws_ok($$SELECT pgmetrics.schedule_retention(NULL)$$, '22004', 'schedule must not be NULL',
    'a NULL schedule is rejected');
SELECT throws_like($$SELECT pgmetrics.schedule_retention('every day')$$, '%invalid schedule%',
    'pg_cron rejects a schedule it cannot read');
SELECT is(
    (SELECT array_agg(schedule) FROM cron.job WHERE jobname = 'pgmetrics_retention'),
    ARRAY['5 4 * * *'],
    'a rejected schedule leaves the job as it was'
);

SELECT * FROM finish();
ROLLBACK;
