BEGIN;
SELECT plan(8);

SELECT columns_are('pgmetrics', 'route_events', ARRAY[
    'route', 'method', 'period_start', 'success', 'duration_ms', 'at'
]);
SELECT columns_are('pgmetrics', 'operation_events', ARRAY[
    'operation', 'period_start', 'success', 'duration_ms', 'at'
]);
SELECT is(
    (SELECT count(*) FROM pg_index WHERE indrelid IN ('pgmetrics.route_events'::regclass,
                                                      'pgmetrics.operation_events'::regclass)),
    0::bigint,
    'the event tables have no index, so an append updates nothing else'
);
SELECT is(
    (SELECT array_agg(relpersistence ORDER BY relname) FROM pg_class
     WHERE oid IN ('pgmetrics.route_events'::regclass, 'pgmetrics.operation_events'::regclass)),
    ARRAY['p', 'p']::"char"[],
    'the event tables are logged, so a committed call survives a crash'
);
SELECT ok(
    (SELECT bool_and(relrowsecurity) FROM pg_class
     WHERE oid IN ('pgmetrics.route_events'::regclass, 'pgmetrics.operation_events'::regclass)),
    'RLS is enabled on the event tables'
);
SELECT is(
    (SELECT count(*) FROM pg_trigger
     WHERE tgrelid IN ('pgmetrics.route_events'::regclass, 'pgmetrics.operation_events'::regclass)),
    0::bigint,
    'no trigger fires on an append'
);
SELECT col_not_null('pgmetrics', 'route_events', 'period_start', 'every route event has its UTC hour');
SELECT col_not_null('pgmetrics', 'operation_events', 'period_start', 'every operation event has its UTC hour');

SELECT * FROM finish();
ROLLBACK;
