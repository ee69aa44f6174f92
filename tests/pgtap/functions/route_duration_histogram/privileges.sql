BEGIN;
SELECT plan(5);

SELECT is_definer('pgmetrics', 'route_duration_histogram',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text'],
    'route_duration_histogram is SECURITY DEFINER: the reader cannot read the tables it reads');
SELECT function_privs_are('pgmetrics', 'route_duration_histogram',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text'],
    'pgmetrics_reader', ARRAY['EXECUTE'], 'the reader may ask for the histogram');
SELECT function_privs_are('pgmetrics', 'route_duration_histogram',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text'],
    'pgmetrics_writer', ARRAY[]::text[], 'the writer may not');
SELECT function_privs_are('pgmetrics', 'route_duration_histogram',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC may not');

SELECT pgmetrics.record_route_metric('/a', 'GET', true, 7, '2026-03-01 10:00+00');
CREATE ROLE pgmetrics_test_reader LOGIN;
GRANT pgmetrics_reader TO pgmetrics_test_reader;
SET ROLE pgmetrics_test_reader;
SELECT is((SELECT sum(count) FROM pgmetrics.route_duration_histogram('2026-03-01', '2026-03-02')), 1::numeric,
    'a member of pgmetrics_reader gets the histogram');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
