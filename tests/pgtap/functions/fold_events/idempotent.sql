BEGIN;
SELECT plan(3);

SELECT pgmetrics.record_route_metric('/a', 'GET', true, 4, '2026-03-01 10:05+00');
SELECT pgmetrics.record_operation_metric('job', true, 4, '2026-03-01 10:05+00');
SELECT pgmetrics.fold_events();

SELECT is(
    pgmetrics.fold_events(),
    '{"route_cells_folded": 0, "route_events_folded": 0, "operation_cells_folded": 0, "operation_events_folded": 0,
      "route_keys_overflowed": 0, "operation_keys_overflowed": 0}'::jsonb,
    'a second fold finds nothing pending'
);
SELECT results_eq(
    $$SELECT total_requests, total_duration_ms FROM pgmetrics.route_metrics$$,
    $$VALUES (1::bigint, 4::float8)$$,
    'folding again changes no route row'
);
SELECT results_eq(
    $$SELECT grain, total_executions, total_duration_ms FROM pgmetrics.operation_metrics_rollup ORDER BY 1$$,
    $$VALUES ('day', 1::bigint, 4::float8), ('month', 1, 4), ('week', 1, 4)$$,
    'folding again changes no rollup row'
);

SELECT * FROM finish();
ROLLBACK;
