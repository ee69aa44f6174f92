BEGIN;
SELECT plan(25);

-- Each bound keeps a fold or a read from failing on an accepted cell (docs/sql.md): two cells of 5e18 requests
-- once made the fold raise "bigint out of range", durations near the largest double "value out of range".
CREATE TEMP TABLE good (route pgmetrics.route_cell, operation pgmetrics.operation_cell, route_json jsonb);
INSERT INTO good VALUES (
    ROW('/x', 'GET', '2026-03-01 10:00:00+00', 2, 1, 3, 1, 2, '2026-03-01 10:01:00+00', 0, '{1146882}'),
    ROW('job', '2026-03-01 10:00:00+00', 1, 1, 7, 7, 7, '2026-03-01 10:02:00+00', 0, '{3211265}'),
    '{"r": "/x", "m": "GET", "h": "2026-03-01T10:00:00Z", "n": 2, "s": 1, "f": 1, "d": 3, "lo": 1, "hi": 2,
      "t": "2026-03-01T10:01:00Z", "zero_count": 0, "histogram": [1146882]}'
);

-- The bad cell comes second, after a valid one, so "nothing written" covers cells checked before it.
CREATE FUNCTION pg_temp.bad_route(patch jsonb) RETURNS boolean LANGUAGE sql AS $$
    SELECT pgmetrics.ingest_batch(
        gen_random_uuid(), ARRAY[g.route, jsonb_populate_record(g.route, patch)], ARRAY[g.operation]
    ) FROM good AS g
$$;
CREATE FUNCTION pg_temp.bad_operation(patch jsonb) RETURNS boolean LANGUAGE sql AS $$
    SELECT pgmetrics.ingest_batch(
        gen_random_uuid(), ARRAY[g.route], ARRAY[g.operation, jsonb_populate_record(g.operation, patch)]
    ) FROM good AS g
$$;
CREATE FUNCTION pg_temp.bad_json(patch jsonb) RETURNS boolean LANGUAGE sql AS $$
    SELECT pgmetrics.ingest_batch(gen_random_uuid(), jsonb_build_array(g.route_json, g.route_json || patch), NULL)
    FROM good AS g
$$;

SELECT throws_ok(
    $$SELECT pg_temp.bad_route('{"total_requests": 5000000000000000000, "successful": 0,
                                 "zero_count": 5000000000000000000, "min_duration_ms": 0, "duration_histogram": []}')$$,
    '22003', 'routes[1]: total_requests must be at most 4294967295, got 5000000000000000000',
    'a count past 2^32 - 1 is too large');
SELECT throws_ok(
    $$SELECT pg_temp.bad_operation('{"total_executions": 4294967296, "successful": 0, "zero_count": 4294967296,
                                     "min_duration_ms": 0, "duration_histogram": []}')$$,
    '22003', 'operations[1]: total_executions must be at most 4294967295, got 4294967296',
    'so is one of an operation');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"max_duration_ms": 1.79e308, "total_duration_ms": 1.79e308}')$$,
    '22003', 'routes[1]: max_duration_ms must be at most 1e15, got 1.79e+308', 'a maximum past 1e15 is too large');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"total_duration_ms": 4.5}')$$,
    '22023', 'routes[1]: total_duration_ms / total_requests must be from min_duration_ms to max_duration_ms, got 4.5 / 2 and 1 to 2',
    'an average above the maximum');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"total_duration_ms": 1.5}')$$,
    '22023', NULL, 'an average below the minimum');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"last_request_at": "2026-03-01 11:00:00+00"}')$$,
    '22023', 'routes[1]: last_request_at must be within the hour from period_start, got 2026-03-01 11:00:00+00 for 2026-03-01 10:00:00+00',
    'a last time after its hour');
SELECT throws_ok($$SELECT pg_temp.bad_operation('{"last_execution_at": "2026-03-01 09:59:59.999999+00"}')$$,
    '22023', NULL, 'a last time before its hour');
SELECT throws_ok(
    $$SELECT pg_temp.bad_route(jsonb_build_object(
        'total_requests', 1000000, 'successful', 0, 'total_duration_ms', 2000000, 'max_duration_ms', 2,
        'duration_histogram', array_fill(1146881, ARRAY[1000000])))$$,
    '22003', 'routes[1]: duration_histogram must have at most 262144 elements, got 1000000',
    'a histogram of a million elements is too large');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"zero_count": 2, "min_duration_ms": 0, "total_duration_ms": 2, "duration_histogram": null}')$$,
    '22004', 'routes[1]: duration_histogram must not be NULL', 'a NULL histogram names the cell and the field');
SELECT throws_ok($$SELECT pg_temp.bad_operation('{"zero_count": 1, "min_duration_ms": 0, "duration_histogram": null}')$$,
    '22004', 'operations[1]: duration_histogram must not be NULL', 'so does one of an operation');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"period_start": null}')$$,
    '22004', 'routes[1]: period_start must not be NULL', 'any NULL field raises 22004');

SELECT throws_ok($$SELECT pg_temp.bad_json('{"n": 5000000000000000, "s": 5000000000000000, "f": 0}')$$,
    '22003', 'routes[1]: n must be at most 4294967295, got 5000000000000000', 'the JSON form bounds the count');
SELECT throws_ok($$SELECT pg_temp.bad_json('{"hi": 1e308, "d": 1e308}')$$,
    '22003', 'routes[1]: hi must be at most 1e15, got 1e+308', 'and the maximum');
SELECT throws_ok($$SELECT pg_temp.bad_json('{"d": 4.5}')$$,
    '22023', 'routes[1]: d / n must be from lo to hi, got 4.5 / 2 and 1 to 2', 'and the average');
SELECT throws_ok($$SELECT pg_temp.bad_json('{"t": "2026-03-01T11:00:00Z"}')$$,
    '22023', 'routes[1]: t must be within the hour from h, got 2026-03-01T11:00:00Z for 2026-03-01T10:00:00Z',
    'and the last time to its hour');
SELECT throws_ok(
    $$SELECT pg_temp.bad_json(jsonb_build_object('histogram', to_jsonb(array_fill(1146881, ARRAY[262145]))))$$,
    '22003', 'routes[1]: histogram must have at most 262144 elements, got 262145', 'and the histogram''s length');

SELECT is(
    (SELECT count(*) FROM pgmetrics.route_cells) + (SELECT count(*) FROM pgmetrics.operation_cells),
    0::bigint,
    'no rejected batch wrote a cell'
);
SELECT is((SELECT count(*) FROM pgmetrics.ingested_batches), 0::bigint, 'no rejected batch recorded its id');

-- The bounds themselves are accepted, in many cells of one key and period, and every read of them succeeds.
SELECT lives_ok(
    $$SELECT pgmetrics.ingest_batch(
        gen_random_uuid(),
        ARRAY(SELECT jsonb_populate_record(g.route, jsonb_build_object(
            'period_start', h, 'last_request_at', h + interval '59 minutes', 'total_requests', 4294967295,
            'successful', 4294967295, 'zero_count', 4294967295, 'min_duration_ms', 0, 'max_duration_ms', 1e15,
            'total_duration_ms', 4294967295 * 1e15, 'duration_histogram', '{}'::int[]))
            FROM good AS g, generate_series(timestamptz '2026-03-01', '2026-03-31 23:00', '1 hour') AS h),
        ARRAY(SELECT jsonb_populate_record(g.operation, jsonb_build_object(
            'total_executions', 4294967295, 'successful', 0, 'total_duration_ms', 4294967295 * 1e15,
            'min_duration_ms', 1e15, 'max_duration_ms', 1e15,
            'duration_histogram', array_fill(35488 * 32768 + 32767, ARRAY[131076]) || (35488 * 32768 + 3)))
            FROM good AS g, generate_series(1, 3))
    ) FROM good AS g LIMIT 1$$,
    'cells at the bounds are accepted'
);
SELECT lives_ok($$SELECT pgmetrics.fold_events()$$, 'and folded');
SELECT lives_ok($$SELECT pgmetrics.run_retention('2026-06-15')$$, 'and rolled up');
SELECT is(
    (SELECT total_requests FROM pgmetrics.route_metrics_summary('2026-01-01', '2027-01-01', 'all')),
    744 * 4294967295::bigint,
    'a summary over every key counts them'
);
SELECT lives_ok(
    $$SELECT count(*) FROM unnest(ARRAY['hour', 'day', 'week', 'month', 'all']) AS b,
        LATERAL pgmetrics.route_metrics_summary('2026-01-01', '2027-01-01', b),
        LATERAL pgmetrics.operation_metrics_summary('2026-01-01', '2027-01-01', b)$$,
    'every bucket shape reads them'
);
SELECT lives_ok(
    $$SELECT pgmetrics.route_duration_quantile(0.99, '2026-01-01', '2027-01-01'),
             pgmetrics.operation_duration_quantile(0.5, '2026-01-01', '2027-01-01')$$,
    'and the quantiles'
);
SELECT cmp_ok(
    (SELECT total_duration_ms FROM pgmetrics.operation_metrics_summary('2026-01-01', '2027-01-01', 'all')),
    '<', 'Infinity'::float8,
    'the sum of their durations is finite'
);

SELECT * FROM finish();
ROLLBACK;
