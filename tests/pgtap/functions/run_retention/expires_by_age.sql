BEGIN;
SELECT plan(10);

-- now = 2026-06-01 12:00 UTC: detail before 2026-03-03 00:00 expires (90 days, whole UTC days),
-- summaries before 2024-06-01 00:00 (730 days), batch ids before 2026-05-25 12:00 (7 days).
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1, '2024-05-31 10:00+00');  -- both tiers expire
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 2, '2026-02-01 10:00+00');  -- detail expires
SELECT pgmetrics.record_route_metric('/r', 'GET', false, 3, '2026-03-02 23:59:59+00');  -- detail expires
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 4, '2026-03-03 00:00+00');  -- kept
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 5, '2026-05-31 10:00+00');  -- kept
SELECT pgmetrics.record_operation_metric('op', true, 6, '2026-03-02 10:00+00');  -- detail expires
SELECT pgmetrics.record_operation_metric('op', true, 7, '2026-03-03 10:00+00');  -- kept
INSERT INTO pgmetrics.ingested_batches (batch_id, ingested_at, route_cells, operation_cells) VALUES
    ('00000000-0000-0000-0000-000000000001', '2026-05-25 11:59+00', 1, 0),
    ('00000000-0000-0000-0000-000000000002', '2026-05-25 12:01+00', 1, 0);

SELECT is(
    pgmetrics.run_retention('2026-06-01 12:00+00') - 'now',
    jsonb_build_object(
        'detail_cutoff', '2026-03-03 00:00+00'::timestamptz,
        'summary_cutoff', '2024-06-01 00:00+00'::timestamptz,
        'batch_cutoff', '2026-05-25 12:00+00'::timestamptz,
        'route_cells_folded', 0,
        'route_events_folded', 5,
        'operation_cells_folded', 0,
        'operation_events_folded', 2,
        'route_hours_expired', 3,
        'operation_hours_expired', 1,
        'detail_partitions_dropped', 0,
        'detail_partitions_created', 12,
        'route_rollups_expired', 2,
        'operation_rollups_expired', 0,
        'batches_pruned', 1,
        'runs_pruned', 0
    ),
    'the run folds the pending events first and reports its cutoffs and what it removed from each table'
);
SELECT results_eq(
    $$SELECT period_start FROM pgmetrics.route_metrics ORDER BY 1$$,
    $$VALUES ('2026-03-03 00:00+00'::timestamptz), ('2026-05-31 10:00+00'::timestamptz)$$,
    'hourly detail from the cutoff day on is kept, older detail is gone'
);
SELECT results_eq(
    $$SELECT period_start, total_requests, failed FROM pgmetrics.route_metrics_rollup WHERE grain = 'day' ORDER BY 1$$,
    $$VALUES ('2026-02-01 00:00+00'::timestamptz, 1::bigint, 0::bigint),
             ('2026-03-02 00:00+00'::timestamptz, 1::bigint, 1::bigint),
             ('2026-03-03 00:00+00'::timestamptz, 1::bigint, 0::bigint),
             ('2026-05-31 00:00+00'::timestamptz, 1::bigint, 0::bigint)$$,
    'the day rollup keeps the expired days and drops only those past summary_retention_days'
);
SELECT results_eq(
    $$SELECT grain, period_start FROM pgmetrics.route_metrics_rollup WHERE period_start < '2024-06-01' ORDER BY 1$$,
    $$VALUES ('week', '2024-05-27 00:00+00'::timestamptz)$$,
    'a week or month goes only once all of it lies before the cutoff'
);
SELECT results_eq(
    $$SELECT period_start FROM pgmetrics.operation_metrics$$,
    $$VALUES ('2026-03-03 10:00+00'::timestamptz)$$,
    'operation detail expires the same way'
);
SELECT is((SELECT count(*) FROM pgmetrics.operation_metrics_rollup WHERE grain = 'day'), 2::bigint,
    'operation days are all kept');
SELECT results_eq(
    $$SELECT batch_id FROM pgmetrics.ingested_batches$$,
    $$VALUES ('00000000-0000-0000-0000-000000000002'::uuid)$$,
    'batch ids older than batch_retention_days are pruned'
);
SELECT is(
    (SELECT result->>'route_hours_expired' FROM pgmetrics.retention_runs), '3',
    'the run is recorded with its result'
);

SELECT is(
    pgmetrics.run_retention('2026-06-01 12:00+00') - ARRAY['now', 'detail_cutoff', 'summary_cutoff', 'batch_cutoff'],
    '{"route_cells_folded": 0, "route_events_folded": 0, "operation_cells_folded": 0, "operation_events_folded": 0,
      "route_hours_expired": 0, "operation_hours_expired": 0, "detail_partitions_dropped": 0,
      "detail_partitions_created": 0, "route_rollups_expired": 0,
      "operation_rollups_expired": 0, "batches_pruned": 0, "runs_pruned": 0}'::jsonb,
    'a second run at the same time removes nothing'
);
SELECT throws_ok($$SELECT pgmetrics.run_retention('infinity')$$, '22023', 'now must be a finite timestamp',
    'an infinite now is rejected');

SELECT * FROM finish();
ROLLBACK;
