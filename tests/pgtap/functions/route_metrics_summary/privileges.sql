BEGIN;
SELECT plan(13);

SELECT is_definer('pgmetrics', 'route_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text', 'text'],
    'route_metrics_summary is SECURITY DEFINER');
SELECT is_definer('pgmetrics', 'operation_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text'],
    'operation_metrics_summary is SECURITY DEFINER');
SELECT function_privs_are('pgmetrics', 'route_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text', 'text'],
    'pgmetrics_reader', ARRAY['EXECUTE'], 'the reader may summarise routes');
SELECT function_privs_are('pgmetrics', 'route_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text', 'text'],
    'pgmetrics_writer', ARRAY[]::text[], 'the writer may not summarise routes');
SELECT function_privs_are('pgmetrics', 'route_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC may not summarise routes');
SELECT function_privs_are('pgmetrics', 'operation_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text'],
    'pgmetrics_reader', ARRAY['EXECUTE'], 'the reader may summarise operations');
SELECT function_privs_are('pgmetrics', 'operation_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text'],
    'pgmetrics_writer', ARRAY[]::text[], 'the writer may not summarise operations');
SELECT function_privs_are('pgmetrics', 'operation_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC may not summarise operations');
SELECT function_privs_are('pgmetrics', '_route_metrics_summary',
    ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'text', 'text'],
    'pgmetrics_reader', ARRAY[]::text[], 'the private body is not executable by the reader');

-- A reader with a hostile search_path still gets the real summary.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 1, '2026-03-01 10:00+00');
CREATE ROLE pgmetrics_test_reader LOGIN;
GRANT pgmetrics_reader TO pgmetrics_test_reader;
CREATE SCHEMA pgmetrics_test_evil;
CREATE FUNCTION pgmetrics_test_evil.date_trunc(text, timestamptz, text) RETURNS timestamptz
LANGUAGE sql AS $$ SELECT 'epoch'::timestamptz $$;
GRANT USAGE ON SCHEMA pgmetrics_test_evil TO pgmetrics_test_reader;
SET ROLE pgmetrics_test_reader;
SET LOCAL search_path = pgmetrics_test_evil, pgmetrics, public;
SELECT results_eq(
    $$SELECT bucket_start, total_requests FROM route_metrics_summary('2026-03-01', '2026-03-02', 'day')$$,
    $$VALUES ('2026-03-01 00:00+00'::timestamptz, 1::bigint)$$,
    'a member of pgmetrics_reader summarises with the bare name; its search_path changes nothing'
);
SELECT throws_ok($$SELECT * FROM pgmetrics._route_metrics_summary('2026-03-01', '2026-03-02', 'day', NULL, NULL, 'UTC')
        AS s (a timestamptz, b text, c text, d bigint, e bigint, f bigint, g float8, h float8, i float8, j float8,
              k float8, l float8, m float8, n float8, o timestamptz)$$,
    '42501', NULL, 'a member of pgmetrics_reader cannot call the private body');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/a', 'GET', true, 1)$$, '42501', NULL,
    'a member of pgmetrics_reader cannot record');
SELECT throws_ok($$SELECT count(*) FROM pgmetrics.route_metrics$$, '42501', NULL,
    'a member of pgmetrics_reader cannot read the hourly table');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
