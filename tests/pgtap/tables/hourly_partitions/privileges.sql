BEGIN;
SELECT plan(9);

SELECT pgmetrics._add_detail_partitions('{2026-03-01}'::timestamptz []);
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1, '2026-03-01 10:00+00');
SELECT pgmetrics.fold_events();

SELECT function_privs_are('pgmetrics', '_add_detail_partitions', ARRAY['timestamp with time zone[]'],
    'pgmetrics_writer', ARRAY[]::text[], 'the writer may not create partitions');
SELECT function_privs_are('pgmetrics', '_add_detail_partitions', ARRAY['timestamp with time zone[]'],
    'public', ARRAY[]::text[], '_add_detail_partitions is private');
SELECT ok(NOT has_schema_privilege('pgmetrics_writer', 'pgmetrics', 'CREATE'),
    'the writer has no CREATE on the schema, though the fold it calls creates partitions');

CREATE ROLE pgmetrics_test_app LOGIN;
GRANT pgmetrics_writer TO pgmetrics_test_app;
CREATE ROLE pgmetrics_test_dashboard LOGIN;
GRANT pgmetrics_reader TO pgmetrics_test_dashboard;

SET ROLE pgmetrics_test_app;
SELECT lives_ok(
    $$SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1, '2026-03-02 10:00+00')$$,
    'the writer records into a day without a partition'
);
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_p20260301$$, '42501', NULL,
    'the writer cannot read a partition directly');
SELECT throws_ok($$SELECT pgmetrics._add_detail_partitions('{2026-04-01}')$$, '42501', NULL,
    'nor create one');
RESET ROLE;
-- The owner folds it (writers do not fold).
SELECT pgmetrics.fold_events();

SET ROLE pgmetrics_test_dashboard;
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_default$$, '42501', NULL,
    'the reader cannot read the default partition directly');
SELECT results_eq(
    $$SELECT route, bucket_start FROM pgmetrics.route_metrics_by_hour ORDER BY 2$$,
    $$VALUES ('/r'::text, '2026-03-01 10:00+00'::timestamptz), ('/r', '2026-03-02 10:00+00')$$,
    'the reader reads the partitions through the view of the hourly tier'
);
RESET ROLE;

-- Should a privilege be granted on a partition by mistake, row security with no policy still shows no row.
GRANT SELECT ON pgmetrics.route_metrics_p20260301 TO pgmetrics_reader;
SET ROLE pgmetrics_test_dashboard;
SELECT is((SELECT count(*) FROM pgmetrics.route_metrics_p20260301), 0::bigint,
    'a partition granted by mistake shows no row to the reader');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
