BEGIN;
SELECT plan(5);

SELECT is(
    pgmetrics.ingest_batch(
        'b0000000-0000-4000-8000-000000000001',
        $$[{"r": "/a", "m": "GET", "h": "2026-03-01T10:00:00Z", "n": 2, "s": 1, "f": 1,
            "d": 3, "lo": 1, "hi": 2, "t": "2026-03-01T10:01:00Z", "zero_count": 0, "histogram": [1146882]}]$$::jsonb,
        $$[{"o": "job", "h": "2026-03-01T10:00:00Z", "n": 1, "s": 1, "f": 0,
            "d": 7, "lo": 7, "hi": 7, "t": "2026-03-01T10:02:00Z", "zero_count": 0, "histogram": [3211265]}]$$::jsonb
    ),
    TRUE,
    'the first call applies the batch'
);
SELECT is(
    pgmetrics.ingest_batch(
        'b0000000-0000-4000-8000-000000000001',
        $$[{"r": "/a", "m": "GET", "h": "2026-03-01T10:00:00Z", "n": 2, "s": 1, "f": 1,
            "d": 3, "lo": 1, "hi": 2, "t": "2026-03-01T10:01:00Z", "zero_count": 0, "histogram": [1146882]}]$$::jsonb,
        $$[{"o": "job", "h": "2026-03-01T10:00:00Z", "n": 1, "s": 1, "f": 0,
            "d": 7, "lo": 7, "hi": 7, "t": "2026-03-01T10:02:00Z", "zero_count": 0, "histogram": [3211265]}]$$::jsonb
    ),
    FALSE,
    'the same batch id again is acknowledged as already applied'
);
SELECT pgmetrics.fold_events();  -- batches are staged until a fold
SELECT results_eq(
    $$SELECT total_requests, total_duration_ms FROM pgmetrics.route_metrics$$,
    $$VALUES (2::bigint, 3::float8)$$,
    'the repeated batch changed no route row'
);
SELECT results_eq(
    $$SELECT total_executions FROM pgmetrics.operation_metrics$$,
    $$VALUES (1::bigint)$$,
    'the repeated batch changed no operation row'
);
SELECT is((SELECT count(*) FROM pgmetrics.ingested_batches), 1::bigint, 'the batch id is recorded once');

SELECT * FROM finish();
ROLLBACK;
