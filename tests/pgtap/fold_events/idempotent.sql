BEGIN;
SELECT plan(3);

SELECT pgmetrics.record_route_metric('/a', 'GET', true, 4, '2026-03-01 10:05+00');
SELECT pgmetrics.record_operation_metric('job', true, 4, '2026-03-01 10:05+00');
SELECT pgmetrics.fold_events();

SELECT is(
    pgmetrics.fold_events(),
    '{"route_events_folded": 0, "operation_events_folded": 0}'::jsonb,
    'a second fold finds nothing pending'
);
SELECT results_eq(
    $$SELECT total_requests, total_duration_ms FROM pgmetrics.route_metrics$$,
    $$VALUES (1::bigint, 4::float8)$$,
    'folding again changes no route row'
);
SELECT results_eq(
    $$SELECT total_executions, total_duration_ms FROM pgmetrics.operation_metrics_daily$$,
    $$VALUES (1::bigint, 4::float8)$$,
    'folding again changes no daily row'
);

SELECT * FROM finish();
ROLLBACK;
