-- requires: pg_cron
BEGIN;
SELECT plan(5);

SELECT is(pgmetrics.unschedule_retention(), false, 'nothing scheduled: false');
SELECT pgmetrics.schedule_retention('5 4 * * *');
SELECT cron.schedule('other_job', '* * * * *', 'SELECT 1');
SELECT is(pgmetrics.unschedule_retention(), true, 'a scheduled job: removed, true');
SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname = 'pgmetrics_retention'), 0, 'the job is gone');
SELECT is(pgmetrics.unschedule_retention(), false, 'unscheduling twice: false, no error');
SELECT is((SELECT array_agg(jobname::text) FROM cron.job), ARRAY['other_job'], 'other jobs stay');

SELECT * FROM finish();
ROLLBACK;
