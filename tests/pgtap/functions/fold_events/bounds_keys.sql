BEGIN;
SELECT plan(17);

SET LOCAL timezone = 'UTC';
SELECT is(pgmetrics._setting('max_keys_per_hour'), 20000, 'by default an hour stores 20000 keys of each kind');
SELECT pgmetrics.set_setting('max_keys_per_hour', 3);

-- Five routes in one hour, /a busiest (5 events) to /e (1 event): three keep their keys, /d and /e go to the
-- overflow key of their own method. Five operations likewise.
SELECT count(pgmetrics.record_route_metric(
    k.route, k.method, i % 2 = 0, k.base + i, '2026-03-01 10:00+00'::timestamptz + i * INTERVAL '1 minute'
))
FROM (VALUES ('/a', 'GET', 5, 10), ('/b', 'GET', 4, 100), ('/c', 'POST', 3, 1000), ('/d', 'GET', 2, 20),
    ('/e', 'POST', 1, 30)) AS k (route, method, n, base)
CROSS JOIN LATERAL generate_series(1, k.n) AS i;
SELECT count(pgmetrics.record_operation_metric(
    k.operation, true, k.base + i, '2026-03-01 10:00+00'::timestamptz + i * INTERVAL '1 minute'
))
FROM (VALUES ('j1', 5, 10), ('j2', 4, 100), ('j3', 3, 1000), ('j4', 2, 20), ('j5', 1, 30)) AS k (operation, n, base)
CROSS JOIN LATERAL generate_series(1, k.n) AS i;

CREATE TEMP TABLE first_fold AS SELECT pgmetrics.fold_events() AS r;
SELECT is(
    (SELECT r -> 'route_keys_overflowed' FROM first_fold), '2'::jsonb, 'the fold counts the route key-hours re-keyed'
);
SELECT is(
    (SELECT r -> 'operation_keys_overflowed' FROM first_fold), '2'::jsonb,
    'and the operation key-hours re-keyed'
);
SELECT results_eq(
    $$SELECT route, method, total_requests, successful, total_duration_ms, min_duration_ms, max_duration_ms,
             last_request_at
      FROM pgmetrics.route_metrics ORDER BY 1, 2$$,
    $$VALUES
        ('/a', 'GET', 5::bigint, 2::bigint, 65::float8, 11::float8, 15::float8, '2026-03-01 10:05+00'::timestamptz),
        ('/b', 'GET', 4::bigint, 2::bigint, 410::float8, 101::float8, 104::float8, '2026-03-01 10:04+00'::timestamptz),
        ('/c', 'POST', 3::bigint, 1::bigint, 3006::float8, 1001::float8, 1003::float8,
         '2026-03-01 10:03+00'::timestamptz),
        ('__overflow__', 'GET', 2::bigint, 1::bigint, 43::float8, 21::float8, 22::float8,
         '2026-03-01 10:02+00'::timestamptz),
        ('__overflow__', 'POST', 1::bigint, 0::bigint, 31::float8, 31::float8, 31::float8,
         '2026-03-01 10:01+00'::timestamptz)$$,
    'the three busiest routes keep their keys; the rest are counted under __overflow__ with their method'
);
SELECT results_eq(
    $$SELECT operation, total_executions, total_duration_ms, min_duration_ms, max_duration_ms
      FROM pgmetrics.operation_metrics ORDER BY 1$$,
    $$VALUES
        ('__overflow__', 3::bigint, 74::float8, 21::float8, 31::float8),
        ('j1', 5::bigint, 65::float8, 11::float8, 15::float8),
        ('j2', 4::bigint, 410::float8, 101::float8, 104::float8),
        ('j3', 3::bigint, 3006::float8, 1001::float8, 1003::float8)$$,
    'the three busiest operations keep their keys; the rest are counted under __overflow__'
);
SELECT is(
    (SELECT sum(e & 32767)::bigint FROM pgmetrics.route_metrics AS m, unnest(m.duration_histogram) AS e
     WHERE m.route = '__overflow__' AND m.method = 'GET'),
    2::bigint,
    'the overflow key holds the histogram of the events it took'
);
SELECT results_eq(
    $$SELECT route, method, total_requests FROM pgmetrics.route_metrics_rollup
      WHERE grain = 'day' AND zone = 'UTC' ORDER BY 1, 2$$,
    $$VALUES ('/a', 'GET', 5::bigint), ('/b', 'GET', 4::bigint), ('/c', 'POST', 3::bigint),
        ('__overflow__', 'GET', 2::bigint), ('__overflow__', 'POST', 1::bigint)$$,
    'the rollups hold the same keys as the hours'
);

-- A stored key of a full hour still takes more; a new one goes to the overflow key, a new hour has room again.
SELECT pgmetrics.record_route_metric('/b', 'GET', true, 7, '2026-03-01 10:30+00');
SELECT pgmetrics.record_route_metric('/f', 'GET', true, 8, '2026-03-01 10:31+00');
SELECT pgmetrics.record_route_metric('/f', 'GET', true, 9, '2026-03-01 11:31+00');
SELECT pgmetrics.record_operation_metric('j3', true, 7, '2026-03-01 10:30+00');
SELECT pgmetrics.record_operation_metric('j6', true, 8, '2026-03-01 10:31+00');
CREATE TEMP TABLE second_fold AS SELECT pgmetrics.fold_events() AS r;
SELECT is(
    (SELECT jsonb_build_array(r -> 'route_keys_overflowed', r -> 'operation_keys_overflowed') FROM second_fold),
    '[1, 1]'::jsonb,
    'only the new keys of the full hour are re-keyed'
);
SELECT results_eq(
    $$SELECT route, method, period_start, total_requests FROM pgmetrics.route_metrics
      WHERE route IN ('/b', '/f', '__overflow__') ORDER BY 1, 2, 3$$,
    $$VALUES
        ('/b', 'GET', '2026-03-01 10:00+00'::timestamptz, 5::bigint),
        ('/f', 'GET', '2026-03-01 11:00+00'::timestamptz, 1::bigint),
        ('__overflow__', 'GET', '2026-03-01 10:00+00'::timestamptz, 3::bigint),
        ('__overflow__', 'POST', '2026-03-01 10:00+00'::timestamptz, 1::bigint)$$,
    'a stored key is accepted past the bound; a new key of the full hour adds to the overflow key'
);
SELECT results_eq(
    $$SELECT operation, total_executions FROM pgmetrics.operation_metrics
      WHERE operation IN ('j3', 'j6', '__overflow__') ORDER BY 1$$,
    $$VALUES ('__overflow__', 4::bigint), ('j3', 4::bigint)$$,
    'a stored operation is accepted past the bound; a new one adds to the overflow key'
);

-- Cells of one batch, with a pending cell of the overflow key itself: it is never re-keyed, and takes the
-- overflowed cells of its method and hour.
SELECT pgmetrics.ingest_batch(
    '00000000-0000-4000-8000-000000000001',
    (SELECT jsonb_agg(jsonb_build_object(
        'r', c.route, 'm', 'PUT', 'h', '2026-03-01 12:00+00', 'n', c.n, 's', c.n, 'f', 0, 'd', c.n * 2, 'lo', 2,
        'hi', 2, 't', '2026-03-01 12:10+00', 'zero_count', 0,
        'histogram', jsonb_build_array((pgmetrics._histogram_bucket(2) << 15) | c.n)
    ))
    FROM (VALUES ('/p', 50), ('/q', 40), ('/r', 30), ('/s', 20), ('/t', 10), ('__overflow__', 5)) AS c (route, n)),
    NULL::jsonb
);
CREATE TEMP TABLE third_fold AS SELECT pgmetrics.fold_events() AS r;
SELECT is((SELECT r -> 'route_cells_folded' FROM third_fold), '6'::jsonb, 'the batch is folded');
SELECT is((SELECT r -> 'route_keys_overflowed' FROM third_fold), '2'::jsonb, 'two of its keys are re-keyed');
SELECT results_eq(
    $$SELECT route, total_requests, total_duration_ms FROM pgmetrics.route_metrics
      WHERE period_start = '2026-03-01 12:00+00' ORDER BY 1$$,
    $$VALUES ('/p', 50::bigint, 100::float8), ('/q', 40::bigint, 80::float8), ('/r', 30::bigint, 60::float8),
        ('__overflow__', 35::bigint, 70::float8)$$,
    'the overflow cell and the overflowed cells add up under the overflow key'
);
SELECT is(
    (SELECT duration_histogram FROM pgmetrics.route_metrics
     WHERE route = '__overflow__' AND period_start = '2026-03-01 12:00+00'),
    ARRAY[(pgmetrics._histogram_bucket(2) << 15) | 35],
    'their histograms are merged'
);

-- Nothing is lost: every event and cell is counted, under its key or the overflow key.
SELECT is(
    (SELECT sum(total_requests)::bigint FROM pgmetrics.route_metrics), 15::bigint + 3 + 155,
    'every route event and cell is counted in the hours'
);
SELECT is(
    (SELECT sum(total_executions)::bigint FROM pgmetrics.operation_metrics), 15::bigint + 2,
    'every operation event is counted in the hours'
);
SELECT is(
    (SELECT sum(total_requests)::bigint FROM pgmetrics.route_metrics_rollup WHERE grain = 'month' AND zone = 'UTC'),
    15::bigint + 3 + 155,
    'and in the rollups'
);

SELECT * FROM finish();
ROLLBACK;
