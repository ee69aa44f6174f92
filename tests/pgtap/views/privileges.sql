BEGIN;
SELECT plan(26);

SELECT table_privs_are('pgmetrics', v, 'pgmetrics_reader', ARRAY['SELECT'], 'the reader may only SELECT ' || v)
FROM unnest(ARRAY[
    'route_metrics_by_hour', 'route_metrics_by_day', 'route_metrics_by_week',
    'operation_metrics_by_hour', 'operation_metrics_by_day', 'operation_metrics_by_week',
    'route_metrics_by_month', 'operation_metrics_by_month'
]) AS v;
SELECT table_privs_are('pgmetrics', v, 'pgmetrics_writer', ARRAY[]::text[], 'the writer has no privilege on ' || v)
FROM unnest(ARRAY[
    'route_metrics_by_hour', 'route_metrics_by_day', 'route_metrics_by_week',
    'operation_metrics_by_hour', 'operation_metrics_by_day', 'operation_metrics_by_week',
    'route_metrics_by_month', 'operation_metrics_by_month'
]) AS v;
SELECT table_privs_are('pgmetrics', v, 'public', ARRAY[]::text[], 'PUBLIC has no privilege on ' || v)
FROM unnest(ARRAY[
    'route_metrics_by_hour', 'route_metrics_by_day', 'route_metrics_by_week',
    'operation_metrics_by_hour', 'operation_metrics_by_day', 'operation_metrics_by_week',
    'route_metrics_by_month', 'operation_metrics_by_month'
]) AS v;

SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 12.5, '2026-03-01 10:00+00');
SELECT pgmetrics.fold_events();  -- the hourly tier holds the events from here on
CREATE ROLE pgmetrics_test_dashboard LOGIN;
GRANT pgmetrics_reader TO pgmetrics_test_dashboard;
SET ROLE pgmetrics_test_dashboard;
SELECT is((SELECT total_requests FROM pgmetrics.route_metrics_by_week), 1::bigint,
    'a member of pgmetrics_reader reads the views, which read the tables as their owner');
SELECT throws_ok($$SELECT count(*) FROM pgmetrics.route_metrics_rollup$$, '42501', NULL,
    'a member of pgmetrics_reader cannot read the rollup table');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
