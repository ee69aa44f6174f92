BEGIN;
SELECT plan(4);

SELECT throws_ok($$SELECT pgmetrics.schedule_retention()$$, '55000', 'pg_cron is not installed in this database',
    'without pg_cron: 55000, explained');
SELECT throws_ok($$SELECT pgmetrics.schedule_retention(NULL)$$, '22004', 'schedule must not be NULL',
    'a NULL schedule is rejected before pg_cron is looked for');
SELECT is((pgmetrics.report_status() ->> 'pg_cron')::boolean, false, 'report_status says pg_cron is not installed');
SELECT is(pgmetrics.report_status() -> 'retention_job', 'null'::jsonb, 'report_status reports no job');

SELECT * FROM finish();
ROLLBACK;
