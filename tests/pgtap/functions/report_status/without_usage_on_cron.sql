-- requires: pg_cron
BEGIN;
SELECT plan(4);

-- report_status runs as the schema owner, who may lack USAGE on schema cron: it still reports
-- the tiers and says it cannot read the jobs, instead of raising "permission denied".
CREATE ROLE pgmetrics_test_owner LOGIN;
GRANT USAGE ON SCHEMA pgmetrics TO pgmetrics_test_owner;
GRANT SELECT ON ALL TABLES IN SCHEMA pgmetrics TO pgmetrics_test_owner;
ALTER FUNCTION pgmetrics.report_status() OWNER TO pgmetrics_test_owner;
SELECT pgmetrics.schedule_fold();

SELECT lives_ok($$SELECT pgmetrics.report_status()$$, 'an owner without USAGE on schema cron gets the status');
SELECT is((pgmetrics.report_status() ->> 'pg_cron')::boolean, true, 'pg_cron is installed');
SELECT is((pgmetrics.report_status() ->> 'cron_readable')::boolean, false, 'its jobs are not readable to the owner');
SELECT is(pgmetrics.report_status() ->> 'owner', 'pgmetrics_test_owner', 'the owner is named for the GRANT');

SELECT * FROM finish();
ROLLBACK;
