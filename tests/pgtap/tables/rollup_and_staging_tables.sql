BEGIN;
SELECT plan(20);

SELECT columns_are('pgmetrics', 'route_metrics_rollup', ARRAY[
    'route', 'method', 'grain', 'zone', 'period_start', 'total_requests', 'successful', 'failed',
    'total_duration_ms', 'min_duration_ms', 'max_duration_ms', 'last_request_at', 'zero_count',
    'duration_histogram', 'duration_quantiles', 'updated_at'
], 'route_metrics_rollup has the columns of a tier row and its grain and zone');
SELECT col_is_pk('pgmetrics', 'route_metrics_rollup', ARRAY['route', 'method', 'grain', 'zone', 'period_start'],
    'the route rollup key starts with route');
SELECT has_index('pgmetrics', 'route_metrics_rollup', 'route_metrics_rollup_period_idx',
    ARRAY['grain', 'zone', 'period_start'], 'route rollup range index');
SELECT columns_are('pgmetrics', 'operation_metrics_rollup', ARRAY[
    'operation', 'grain', 'zone', 'period_start', 'total_executions', 'successful', 'failed',
    'total_duration_ms', 'min_duration_ms', 'max_duration_ms', 'last_execution_at', 'zero_count',
    'duration_histogram', 'duration_quantiles', 'updated_at'
], 'operation_metrics_rollup has the columns of a tier row and its grain and zone');
SELECT col_is_pk('pgmetrics', 'operation_metrics_rollup', ARRAY['operation', 'grain', 'zone', 'period_start'],
    'the operation rollup key starts with operation');
SELECT columns_are('pgmetrics', 'route_cells', ARRAY[
    'route', 'method', 'period_start', 'total_requests', 'successful', 'total_duration_ms', 'min_duration_ms',
    'max_duration_ms', 'last_request_at', 'zero_count', 'duration_histogram'
], 'route_cells holds the fields of pgmetrics.route_cell');
SELECT columns_are('pgmetrics', 'operation_cells', ARRAY[
    'operation', 'period_start', 'total_executions', 'successful', 'total_duration_ms', 'min_duration_ms',
    'max_duration_ms', 'last_execution_at', 'zero_count', 'duration_histogram'
], 'operation_cells holds the fields of pgmetrics.operation_cell');
SELECT is(
    (SELECT count(*)::int FROM pg_index WHERE indrelid IN ('pgmetrics.route_cells'::regclass,
        'pgmetrics.operation_cells'::regclass)),
    0,
    'the staging tables have no index: ingest_batch appends as COPY would'
);
SELECT ok(
    (SELECT bool_and(relrowsecurity) FROM pg_class WHERE oid IN (
        'pgmetrics.route_metrics_rollup'::regclass, 'pgmetrics.operation_metrics_rollup'::regclass,
        'pgmetrics.route_cells'::regclass, 'pgmetrics.operation_cells'::regclass,
        'pgmetrics.report_zones'::regclass, 'pgmetrics.locks'::regclass)),
    'RLS is enabled on the rollup, staging, zone and lock tables'
);
SELECT is(
    (SELECT count(*)::int FROM pg_constraint WHERE contype = 'f' AND connamespace = 'pgmetrics'::regnamespace),
    0,
    'no foreign key anywhere in the schema'
);
SELECT hasnt_table('pgmetrics', 'route_metrics_daily', 'the daily tables are gone: the day rollup replaced them');
SELECT is(
    (SELECT count(*)::int FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (
        'pgmetrics.route_metrics'::regclass, 'pgmetrics.operation_metrics'::regclass)),
    0,
    'no trigger on the hourly tier: no histogram is merged on a write'
);
SELECT is(
    (SELECT attgenerated FROM pg_attribute
     WHERE attrelid = 'pgmetrics.route_metrics'::regclass AND attname = 'duration_quantiles'),
    '',
    'hourly quantiles are a plain column the fold writes'
);
SELECT results_eq($$SELECT name FROM pgmetrics.locks ORDER BY 1$$, $$VALUES ('fold'), ('retention')$$,
    'the fold and retention each have their lock row');
SELECT throws_ok($$INSERT INTO pgmetrics.route_metrics_rollup VALUES ('/a', 'GET', 'hour', 'UTC', now(), 1, 1, 0,
    1, 1, 1, now(), 0, '{}', '{1,1,1}')$$, '23514', NULL, 'an hour is no rollup grain');
SELECT throws_ok($$INSERT INTO pgmetrics.route_metrics_rollup VALUES ('/a', 'GET', 'week', 'Asia/Tokyo', now(), 1,
    1, 0, 1, 1, 1, now(), 0, '{}', '{1,1,1}')$$, '23514', NULL, 'weeks and months are rolled up in UTC only');
SELECT throws_ok($$INSERT INTO pgmetrics.report_zones (zone) VALUES ('UTC')$$, '23514', NULL,
    'UTC is no report zone: its days are always rolled up');
SELECT has_type('pgmetrics', 'route_cell', 'the route cell type exists');
SELECT has_type('pgmetrics', 'operation_cell', 'the operation cell type exists');
SELECT ok(pg_catalog.has_type_privilege('pgmetrics_writer', 'pgmetrics.route_cell', 'USAGE'),
    'the writer may use the route cell type');

SELECT * FROM finish();
ROLLBACK;
