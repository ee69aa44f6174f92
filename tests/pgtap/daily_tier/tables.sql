BEGIN;
SELECT plan(22);

SELECT has_table('pgmetrics', 'route_metrics_daily', 'route_metrics_daily exists');
SELECT columns_are('pgmetrics', 'route_metrics_daily', ARRAY[
    'route', 'method', 'period_start', 'period_end', 'total_requests', 'successful', 'failed',
    'total_duration_ms', 'min_duration_ms', 'max_duration_ms', 'last_request_at', 'zero_count',
    'duration_histogram', 'duration_quantiles', 'created_at', 'updated_at'
], 'route_metrics_daily has the columns of route_metrics');
SELECT col_is_pk('pgmetrics', 'route_metrics_daily', ARRAY['route', 'method', 'period_start'],
    'the daily route key starts with route');
SELECT has_index('pgmetrics', 'route_metrics_daily', 'route_metrics_daily_period_start_idx', ARRAY['period_start'],
    'daily route time-range index');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'pgmetrics.route_metrics_daily'::regclass),
    'RLS is enabled on route_metrics_daily');
SELECT ok(
    (SELECT count(*) = 0 FROM pg_constraint WHERE conrelid = 'pgmetrics.route_metrics_daily'::regclass AND contype = 'f'),
    'route_metrics_daily has no foreign keys'
);

SELECT has_table('pgmetrics', 'operation_metrics_daily', 'operation_metrics_daily exists');
SELECT columns_are('pgmetrics', 'operation_metrics_daily', ARRAY[
    'operation', 'period_start', 'period_end', 'total_executions', 'successful', 'failed',
    'total_duration_ms', 'min_duration_ms', 'max_duration_ms', 'last_execution_at', 'zero_count',
    'duration_histogram', 'duration_quantiles', 'created_at', 'updated_at'
], 'operation_metrics_daily has the columns of operation_metrics');
SELECT col_is_pk('pgmetrics', 'operation_metrics_daily', ARRAY['operation', 'period_start'],
    'the daily operation key starts with operation');
SELECT has_index('pgmetrics', 'operation_metrics_daily', 'operation_metrics_daily_period_start_idx',
    ARRAY['period_start'], 'daily operation time-range index');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'pgmetrics.operation_metrics_daily'::regclass),
    'RLS is enabled on operation_metrics_daily');
SELECT ok(
    (SELECT count(*) = 0 FROM pg_constraint
     WHERE conrelid = 'pgmetrics.operation_metrics_daily'::regclass AND contype = 'f'),
    'operation_metrics_daily has no foreign keys'
);

SELECT table_privs_are('pgmetrics', t, r, ARRAY[]::text[], r || ' has no privilege on ' || t)
FROM unnest(ARRAY['route_metrics_daily', 'operation_metrics_daily']) AS t
CROSS JOIN unnest(ARRAY['pgmetrics_writer', 'pgmetrics_reader', 'public']) AS r;

SELECT throws_ok(
    $$INSERT INTO pgmetrics.route_metrics_daily (route, method, period_start, period_end, total_requests, successful,
        failed, total_duration_ms, min_duration_ms, max_duration_ms, last_request_at)
      VALUES ('/x', 'GET', '2026-01-01 01:00+00', '2026-01-02 01:00+00', 1, 1, 0, 1, 1, 1, now())$$,
    '23514', NULL, 'a daily row must start at a UTC midnight'
);
-- Statement-level (tgtype bit 0 clear), AFTER (bit 1 clear), one event each with its transition tables.
SELECT results_eq(
    $$SELECT tgrelid::regclass::text, tgname, tgtype & 1, tgtype & 2, tgtype & (4 | 8 | 16), tgoldtable, tgnewtable
      FROM pg_trigger
      WHERE tgrelid IN ('pgmetrics.route_metrics'::regclass, 'pgmetrics.operation_metrics'::regclass)
        AND NOT tgisinternal
      ORDER BY 1, 2$$,
    $$VALUES ('pgmetrics.operation_metrics', 'operation_metrics_daily_insert'::name, 0, 0, 4, NULL::name, 'new_rows'::name),
             ('pgmetrics.operation_metrics', 'operation_metrics_daily_update', 0, 0, 16, 'old_rows', 'new_rows'),
             ('pgmetrics.route_metrics', 'route_metrics_daily_insert', 0, 0, 4, NULL, 'new_rows'),
             ('pgmetrics.route_metrics', 'route_metrics_daily_update', 0, 0, 16, 'old_rows', 'new_rows')$$,
    'the hourly tables have AFTER INSERT and AFTER UPDATE statement-level triggers with transition tables, no other'
);
SELECT function_privs_are('pgmetrics', '_route_metrics_daily_apply', ARRAY[]::text[], 'public', ARRAY[]::text[],
    'the route trigger function is private');
SELECT function_privs_are('pgmetrics', '_operation_metrics_daily_apply', ARRAY[]::text[], 'public', ARRAY[]::text[],
    'the operation trigger function is private');

SELECT * FROM finish();
ROLLBACK;
