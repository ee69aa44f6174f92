BEGIN;
SELECT plan(2);

SET LOCAL timezone = 'UTC';
-- Six durations (0, 1, 1, 2, 2 and 100 ms) in one cell, not folded: alone in its hour, and in its day with a folded
-- event. A bucket of one pending row has no stored quantiles, so it must merge its histogram like any other.
SELECT pgmetrics.record_route_metric('/p', 'GET', true, 50, '2026-03-05 08:30+00');
SELECT pgmetrics.fold_events();
SELECT pgmetrics.ingest_batch(
    '00000000-0000-0000-0000-0000000000c1',
    ARRAY[
        ROW('/p', 'GET', '2026-03-05 10:00+00', 6, 6, 106.0, 0, 100.0, '2026-03-05 10:59+00', 1,
            ARRAY[(0 << 15) | 2, (35 << 15) | 2, (231 << 15) | 1])::pgmetrics.route_cell
    ],
    ARRAY[]::pgmetrics.operation_cell []
);

SELECT results_eq(
    $$SELECT p50_duration_ms, p95_duration_ms, p99_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-05 10:00', '2026-03-05 11:00')$$,
    $$SELECT q[1], q[2], q[3]
      FROM pgmetrics._histogram_quantiles(
          ARRAY[(0 << 15) | 2, (35 << 15) | 2, (231 << 15) | 1], 1, '{0.5,0.95,0.99}', 0, 100
      ) AS q$$,
    'a pending cell alone in its hour: the nearest ranks of its histogram'
);
SELECT results_eq(
    $$SELECT p50_duration_ms, p95_duration_ms, p99_duration_ms
      FROM pgmetrics.route_metrics_summary('2026-03-05', '2026-03-06', 'day')$$,
    $$SELECT q[1], q[2], q[3]
      FROM pgmetrics._histogram_quantiles(
          ARRAY[(0 << 15) | 2, (35 << 15) | 2, (196 << 15) | 1, (231 << 15) | 1], 1, '{0.5,0.95,0.99}', 0, 100
      ) AS q$$,
    'with a folded event in its day: the nearest ranks of both histograms merged'
);

SELECT * FROM finish();
ROLLBACK;
