BEGIN;
SELECT plan(4);

-- now = 2026-06-01 12:00 UTC: detail before 2026-03-03 00:00 expires. Both events are still pending.
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 2, '2026-02-01 10:00+00');  -- folded, then its hour expires
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 5, '2026-05-31 10:00+00');  -- folded and kept

SELECT is(
    pgmetrics.run_retention('2026-06-01 12:00+00') -> 'route_events_folded',
    '2'::jsonb,
    'retention folds the pending events before it expires anything'
);
SELECT is((SELECT count(*) FROM pgmetrics.route_events), 0::bigint, 'nothing is left pending');
SELECT results_eq(
    $$SELECT period_start, total_requests FROM pgmetrics.route_metrics_rollup WHERE grain = 'day' ORDER BY 1$$,
    $$VALUES ('2026-02-01 00:00+00'::timestamptz, 1::bigint), ('2026-05-31 00:00+00'::timestamptz, 1::bigint)$$,
    'an expired event still reaches the day rollup'
);
SELECT results_eq(
    $$SELECT period_start FROM pgmetrics.route_metrics$$,
    $$VALUES ('2026-05-31 10:00+00'::timestamptz)$$,
    'the hour before the cutoff is expired, the later one is kept'
);

SELECT * FROM finish();
ROLLBACK;
