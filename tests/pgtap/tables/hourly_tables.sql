BEGIN;
SELECT plan(32);

SELECT has_schema('pgmetrics');

SELECT has_table('pgmetrics', 'route_metrics', 'route_metrics exists');
SELECT columns_are('pgmetrics', 'route_metrics', ARRAY[
    'route', 'method', 'period_start', 'period_end', 'total_requests', 'successful', 'failed',
    'total_duration_ms', 'min_duration_ms', 'max_duration_ms', 'last_request_at', 'zero_count',
    'duration_histogram', 'duration_quantiles', 'created_at', 'updated_at'
]);
SELECT col_type_is('pgmetrics', 'route_metrics', 'total_requests', 'bigint', 'route counts are bigint');
SELECT col_type_is('pgmetrics', 'route_metrics', 'successful', 'bigint', 'route successes are bigint');
SELECT col_type_is('pgmetrics', 'route_metrics', 'failed', 'bigint', 'route failures are bigint');
SELECT col_type_is('pgmetrics', 'route_metrics', 'total_duration_ms', 'double precision', 'route durations are double');
SELECT col_type_is('pgmetrics', 'route_metrics', 'min_duration_ms', 'double precision', 'route min is double');
SELECT col_type_is('pgmetrics', 'route_metrics', 'max_duration_ms', 'double precision', 'route max is double');
SELECT col_type_is('pgmetrics', 'route_metrics', 'period_start', 'timestamp with time zone', 'route period is timestamptz');
SELECT col_is_pk('pgmetrics', 'route_metrics', ARRAY['route', 'method', 'period_start'], 'route key starts with route');
SELECT has_index('pgmetrics', 'route_metrics', 'route_metrics_period_start_idx', ARRAY['period_start'],
    'route time-range index');
SELECT ok(
    (SELECT relrowsecurity FROM pg_class WHERE oid = 'pgmetrics.route_metrics'::regclass),
    'RLS is enabled on route_metrics'
);
SELECT ok(
    (SELECT count(*) = 0 FROM pg_constraint WHERE conrelid = 'pgmetrics.route_metrics'::regclass AND contype = 'f'),
    'route_metrics has no foreign keys'
);

SELECT has_table('pgmetrics', 'operation_metrics', 'operation_metrics exists');
SELECT columns_are('pgmetrics', 'operation_metrics', ARRAY[
    'operation', 'period_start', 'period_end', 'total_executions', 'successful', 'failed',
    'total_duration_ms', 'min_duration_ms', 'max_duration_ms', 'last_execution_at', 'zero_count',
    'duration_histogram', 'duration_quantiles', 'created_at', 'updated_at'
]);
SELECT col_type_is('pgmetrics', 'operation_metrics', 'total_executions', 'bigint', 'operation counts are bigint');
SELECT col_type_is('pgmetrics', 'operation_metrics', 'successful', 'bigint', 'operation successes are bigint');
SELECT col_type_is('pgmetrics', 'operation_metrics', 'failed', 'bigint', 'operation failures are bigint');
SELECT col_type_is('pgmetrics', 'operation_metrics', 'total_duration_ms', 'double precision', 'op durations are double');
SELECT col_type_is('pgmetrics', 'operation_metrics', 'min_duration_ms', 'double precision', 'op min is double');
SELECT col_type_is('pgmetrics', 'operation_metrics', 'max_duration_ms', 'double precision', 'op max is double');
SELECT col_type_is('pgmetrics', 'operation_metrics', 'period_start', 'timestamp with time zone', 'op period is timestamptz');
SELECT col_is_pk('pgmetrics', 'operation_metrics', ARRAY['operation', 'period_start'], 'operation key starts with operation');
SELECT has_index('pgmetrics', 'operation_metrics', 'operation_metrics_period_start_idx', ARRAY['period_start'],
    'operation time-range index');
SELECT ok(
    (SELECT relrowsecurity FROM pg_class WHERE oid = 'pgmetrics.operation_metrics'::regclass),
    'RLS is enabled on operation_metrics'
);
SELECT ok(
    (SELECT count(*) = 0 FROM pg_constraint WHERE conrelid = 'pgmetrics.operation_metrics'::regclass AND contype = 'f'),
    'operation_metrics has no foreign keys'
);

SELECT throws_ok(
    $$INSERT INTO pgmetrics.route_metrics (route, method, period_start, period_end, total_requests, successful, failed,
        total_duration_ms, min_duration_ms, max_duration_ms, last_request_at)
      VALUES ('/x', 'GET', '2026-01-01 10:30+00', '2026-01-01 11:30+00', 1, 1, 0, 1, 1, 1, now())$$,
    '23514', NULL, 'a bucket must start on a UTC hour'
);
SELECT throws_ok(
    $$INSERT INTO pgmetrics.route_metrics (route, method, period_start, period_end, total_requests, successful, failed,
        total_duration_ms, min_duration_ms, max_duration_ms, last_request_at)
      VALUES ('/x', 'GET', '2026-01-01 10:00+00', '2026-01-01 11:00+00', 2, 1, 0, 1, 1, 1, now())$$,
    '23514', NULL, 'total must equal successful + failed'
);
SELECT throws_ok(
    $$INSERT INTO pgmetrics.operation_metrics (operation, period_start, period_end, total_executions, successful, failed,
        total_duration_ms, min_duration_ms, max_duration_ms, last_execution_at)
      VALUES ('op', '2026-01-01 10:00+00', '2026-01-01 11:00+00', 1, 1, 0, 1, 5, 1, now())$$,
    '23514', NULL, 'min must not exceed max'
);
SELECT throws_ok(
    $$INSERT INTO pgmetrics.route_metrics (route, method, period_start, period_end, total_requests, successful, failed,
        total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count)
      VALUES ('/x', 'GET', '2026-01-01 10:00+00', '2026-01-01 11:00+00', 1, 1, 0, 0, 0, 0, now(), 2)$$,
    '23514', NULL, 'zero durations cannot outnumber the requests'
);
SELECT is(
    (SELECT count(*)::int FROM pg_catalog.pg_attribute
     WHERE attrelid IN ('pgmetrics.route_metrics'::regclass, 'pgmetrics.route_metrics_rollup'::regclass,
                        'pgmetrics.operation_metrics'::regclass, 'pgmetrics.operation_metrics_rollup'::regclass)
         AND attname = 'duration_quantiles' AND attgenerated = ''),
    4,
    'p50, p95 and p99 are stored with every tier row, written by the fold'
);

SELECT * FROM finish();
ROLLBACK;
