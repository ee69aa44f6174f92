BEGIN;
SELECT plan(9);

SELECT is(
    pgmetrics.ingest_batch(
        'a0000000-0000-4000-8000-000000000001',
        $$[
            {"r": "/users/{id}", "m": "get", "h": "2026-03-01T10:00:00Z", "n": 3, "s": 2, "f": 1,
             "d": 30.5, "lo": 0.5, "hi": 20, "t": "2026-03-01T10:59:59.123456Z",
             "zero_count": 0, "histogram": [-1114111, 3801089, 4915201]},
            {"r": "/users/{id}", "m": "GET", "h": "2026-03-01T10:00:00Z", "n": 1, "s": 1, "f": 0,
             "d": 40, "lo": 40, "hi": 40, "t": "2026-03-01T10:10:00Z", "zero_count": 0,
             "histogram": [6062081]},
            {"r": "/orders", "m": "POST", "h": "2026-03-01T11:00:00+00:00", "n": 2, "s": 2, "f": 0,
             "d": 4, "lo": 1, "hi": 3, "t": "2026-03-01T11:00:01Z", "zero_count": 0, "histogram": [1802242]}
        ]$$::jsonb,
        $$[{"o": "send_email", "h": "2026-03-01T10:00:00Z", "n": 5, "s": 4, "f": 1,
            "d": 50, "lo": 2, "hi": 20, "t": "2026-03-01T10:30:00Z", "zero_count": 0, "histogram": [4915205]}]$$::jsonb
    ),
    TRUE,
    'a new batch is applied and says so'
);
SELECT pgmetrics.fold_events();  -- batches are staged until a fold

SELECT results_eq(
    $$SELECT route, method, period_start, period_end, total_requests, successful, failed,
             total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
      FROM pgmetrics.route_metrics ORDER BY route, method, period_start$$,
    $$VALUES
        ('/orders', 'POST', '2026-03-01 11:00+00'::timestamptz, '2026-03-01 12:00+00'::timestamptz,
         2::bigint, 2::bigint, 0::bigint, 4::float8, 1::float8, 3::float8, '2026-03-01 11:00:01+00'::timestamptz),
        ('/users/{id}', 'GET', '2026-03-01 10:00+00', '2026-03-01 11:00+00',
         4, 3, 1, 70.5, 0.5, 40, '2026-03-01 10:59:59.123456+00')$$,
    'cells of the same key and hour are summed, methods upper-cased'
);

SELECT results_eq(
    $$SELECT operation, period_start, total_executions, successful, failed, total_duration_ms,
             min_duration_ms, max_duration_ms, last_execution_at
      FROM pgmetrics.operation_metrics$$,
    $$VALUES ('send_email', '2026-03-01 10:00+00'::timestamptz, 5::bigint, 4::bigint, 1::bigint,
              50::float8, 2::float8, 20::float8, '2026-03-01 10:30+00'::timestamptz)$$,
    'operation cells are stored'
);

SELECT results_eq(
    $$SELECT zero_count, duration_histogram FROM pgmetrics.route_metrics ORDER BY route$$,
    $$VALUES (0::bigint, '{1802242}'::int[]),
             (0, '{-1114111,3801089,4915201,6062081}')$$,
    'the histograms of cells of the same key and hour are merged'
);

SELECT results_eq(
    $$SELECT route_cells, operation_cells FROM pgmetrics.ingested_batches
      WHERE batch_id = 'a0000000-0000-4000-8000-000000000001'$$,
    $$VALUES (3, 1)$$,
    'the batch id is recorded with its cell counts'
);

-- A later batch adds to existing rows: counts and sums add, min, max and last time merge.
SELECT pgmetrics.record_route_metric('/orders', 'POST', false, 0.25, '2026-03-01 11:30+00');
SELECT is(
    pgmetrics.ingest_batch(
        'a0000000-0000-4000-8000-000000000002',
        $$[{"r": "/orders", "m": "POST", "h": "2026-03-01T11:00:00Z", "n": 1, "s": 1, "f": 0,
            "d": 9, "lo": 9, "hi": 9, "t": "2026-03-01T11:10:00Z", "zero_count": 0, "histogram": [3604481]}]$$::jsonb,
        NULL
    ),
    TRUE,
    'a second batch with NULL operations is applied'
);
SELECT pgmetrics.fold_events();  -- batches are staged until a fold
SELECT results_eq(
    $$SELECT total_requests, successful, failed, total_duration_ms, min_duration_ms, max_duration_ms,
             last_request_at
      FROM pgmetrics.route_metrics WHERE route = '/orders'$$,
    $$VALUES (4::bigint, 3::bigint, 1::bigint, 13.25::float8, 0.25::float8, 9::float8,
              '2026-03-01 11:30+00'::timestamptz)$$,
    'a batch merges into rows written by record_route_metric'
);

SELECT is(
    pgmetrics.ingest_batch('a0000000-0000-4000-8000-000000000003', '[]'::jsonb, 'null'::jsonb),
    TRUE,
    'an empty batch is applied'
);

-- Times without an offset are UTC whatever the caller's TimeZone.
SET LOCAL timezone = 'Asia/Tokyo';
SELECT pgmetrics.ingest_batch(
    'a0000000-0000-4000-8000-000000000004', NULL::jsonb,
    $$[{"o": "tz", "h": "2026-03-01 10:00", "n": 1, "s": 1, "f": 0, "d": 1, "lo": 1, "hi": 1,
        "t": "2026-03-01 10:05", "zero_count": 0, "histogram": [1]}]$$::jsonb
);
SELECT pgmetrics.fold_events();
SELECT is(
    (SELECT period_start FROM pgmetrics.operation_metrics WHERE operation = 'tz'),
    '2026-03-01 10:00+00'::timestamptz,
    'a time without an offset is read as UTC'
);

SELECT * FROM finish();
ROLLBACK;
