BEGIN;
SELECT plan(6);

SELECT is_definer('pgmetrics', 'report_status', ARRAY[]::text[],
    'report_status is SECURITY DEFINER: the reader cannot count the tables itself');
SELECT function_privs_are('pgmetrics', 'report_status', ARRAY[]::text[], 'pgmetrics_reader', ARRAY['EXECUTE'],
    'the reader may read the status');
SELECT function_privs_are('pgmetrics', 'report_status', ARRAY[]::text[], 'pgmetrics_writer', ARRAY[]::text[],
    'the writer may not');
SELECT function_privs_are('pgmetrics', 'report_status', ARRAY[]::text[], 'public', ARRAY[]::text[],
    'PUBLIC may not');

SELECT pgmetrics.record_route_metric('/a', 'GET', true, 1, '2026-03-01 10:00+00');
CREATE ROLE pgmetrics_test_reader LOGIN;
GRANT pgmetrics_reader TO pgmetrics_test_reader;
CREATE ROLE pgmetrics_test_writer LOGIN;
GRANT pgmetrics_writer TO pgmetrics_test_writer;
SET ROLE pgmetrics_test_reader;
SELECT is((pgmetrics.report_status() -> 'tiers' ->> 'route_events')::int, 1,
    'a member of pgmetrics_reader reads the counts of tables it cannot read');
RESET ROLE;
SET ROLE pgmetrics_test_writer;
SELECT throws_ok($$SELECT pgmetrics.report_status()$$, '42501', NULL, 'a member of pgmetrics_writer is denied');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
