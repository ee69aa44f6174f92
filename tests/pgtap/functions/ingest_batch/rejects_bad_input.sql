BEGIN;
SELECT plan(39);

CREATE TEMP TABLE good (route jsonb, operation jsonb);
INSERT INTO good VALUES (
    '{"r": "/x", "m": "GET", "h": "2026-03-01T10:00:00Z", "n": 2, "s": 1, "f": 1, "d": 3, "lo": 1, "hi": 2,
      "t": "2026-03-01T10:01:00Z", "zero_count": 0, "histogram": [1146882]}',
    '{"o": "job", "h": "2026-03-01T10:00:00Z", "n": 1, "s": 1, "f": 0, "d": 7, "lo": 7, "hi": 7,
      "t": "2026-03-01T10:02:00Z", "zero_count": 0, "histogram": [3211265]}'
);

-- The bad cell comes second, after a valid one, so "nothing written" covers cells checked before it.
CREATE FUNCTION pg_temp.bad_route(patch jsonb) RETURNS boolean LANGUAGE sql AS $$
    SELECT pgmetrics.ingest_batch(
        gen_random_uuid(), jsonb_build_array(g.route, g.route || patch), jsonb_build_array(g.operation)
    ) FROM good AS g
$$;
CREATE FUNCTION pg_temp.bad_operation(patch jsonb) RETURNS boolean LANGUAGE sql AS $$
    SELECT pgmetrics.ingest_batch(
        gen_random_uuid(), jsonb_build_array(g.route), jsonb_build_array(g.operation, g.operation || patch)
    ) FROM good AS g
$$;

SELECT throws_ok($$SELECT pgmetrics.ingest_batch(NULL, '[]'::jsonb, '[]'::jsonb)$$,
    '22004', 'batch_id must not be NULL', 'a NULL batch_id is rejected');
SELECT throws_ok($$SELECT pgmetrics.ingest_batch(gen_random_uuid(), '{}'::jsonb, '[]'::jsonb)$$,
    '22023', 'routes must be a JSON array or NULL, got a JSON object', 'routes must be an array');
SELECT throws_ok($$SELECT pgmetrics.ingest_batch(gen_random_uuid(), '[]'::jsonb, '3'::jsonb)$$,
    '22023', 'operations must be a JSON array or NULL, got a JSON number', 'operations must be an array');
SELECT throws_ok($$SELECT pgmetrics.ingest_batch(gen_random_uuid(), '[1]'::jsonb, '[]'::jsonb)$$,
    '22023', 'routes[0]: a cell must be a JSON object, got 1', 'a cell must be an object');

SELECT throws_ok($$SELECT pg_temp.bad_route('{"r": ""}')$$,
    '22023', 'routes[1]: r must be 1 to 1024 characters long, got 0', 'an empty route');
SELECT throws_ok($$SELECT pg_temp.bad_route(jsonb_build_object('r', repeat('x', 1025)))$$,
    '22023', 'routes[1]: r must be 1 to 1024 characters long, got 1025', 'a route over 1024 characters');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"r": null}')$$,
    '22023', 'routes[1]: r must be a string', 'a null route');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"r": 5}')$$,
    '22023', 'routes[1]: r must be a string', 'a route that is a number');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"m": "FETCH"}')$$,
    '22023', 'routes[1]: method must be one of GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT _OTHER, got ''FETCH''',
    'an unknown method');
SELECT throws_ok($$SELECT pgmetrics.ingest_batch(gen_random_uuid(), jsonb_build_array(g.route - 'm'), NULL) FROM good AS g$$,
    '22023', 'routes[0]: m must be a string', 'a missing method');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"n": -1}')$$,
    '22023', 'routes[1]: n must be an integer >= 0, got -1', 'a negative count');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"n": 2.5}')$$,
    '22023', 'routes[1]: n must be an integer >= 0, got 2.5', 'a fractional count');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"s": "1"}')$$,
    '22023', 'routes[1]: s must be an integer >= 0, got "1"', 'a count given as a string');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"f": 10000000000000000000}')$$,
    '22023', NULL, 'a count past bigint');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"n": 3}')$$,
    '22023', 'routes[1]: n must equal s + f, got n = 3, s = 1, f = 1', 'counts that do not add up');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"n": 0, "s": 0, "f": 0}')$$,
    '22023', 'routes[1]: n must be > 0', 'an empty cell');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"d": -1}')$$,
    '22023', 'routes[1]: d must be a number >= 0, got -1', 'a negative sum');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"lo": "NaN"}')$$,
    '22023', 'routes[1]: lo must be a number >= 0, got "NaN"', 'a NaN minimum');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"hi": 1e400}')$$,
    '22003', NULL, 'a maximum past double precision');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"lo": 5}')$$,
    '22023', 'routes[1]: lo must be <= hi, got lo = 5, hi = 2', 'a minimum above the maximum');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"h": "2026-03-01T10:30:00Z"}')$$,
    '22023', 'routes[1]: h must be the start of a UTC hour, got 2026-03-01T10:30:00Z', 'an hour not on the hour');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"h": "2026-03-01T10:00:00+05:30"}')$$,
    '22023', NULL, 'an hour in a half-hour zone is not a UTC hour');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"h": "yesterday noon"}')$$,
    '22023', NULL, 'an unreadable hour');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"h": "infinity"}')$$,
    '22023', 'routes[1]: h must be the start of a UTC hour, got infinity', 'an infinite hour');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"t": "-infinity"}')$$,
    '22023', 'routes[1]: t must be a finite timestamp, got -infinity', 'an infinite last time');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"t": null}')$$,
    '22023', 'routes[1]: t must be a timestamp string, got null', 'a null last time');
SELECT throws_ok($$SELECT pg_temp.bad_operation('{"o": ""}')$$,
    '22023', 'operations[1]: o must be 1 to 1024 characters long, got 0', 'an empty operation');
SELECT throws_ok($$SELECT pg_temp.bad_operation('{"o": null}')$$,
    '22023', 'operations[1]: o must be a string', 'a null operation');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"zero_count": -1}')$$,
    '22023', 'routes[1]: zero_count must be an integer >= 0, got -1', 'a negative zero_count');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"histogram": null}')$$,
    '22023', 'routes[1]: histogram must be a JSON array of packed integers, got null', 'a missing histogram');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"histogram": [1, "2"]}')$$,
    '22023', 'routes[1]: histogram[1] must be an integer bucket * 2^15 + count, got "2"', 'a histogram element as text');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"histogram": [1.5]}')$$,
    '22023', 'routes[1]: histogram[0] must be an integer bucket * 2^15 + count, got 1.5', 'a fractional element');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"histogram": [1146880]}')$$,
    '22023', 'routes[1]: histogram[0] must hold a bucket from -37220 to 35488 and a count > 0, got 1146880',
    'an element counting nothing');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"histogram": [1162903554]}')$$,
    '22023', 'routes[1]: histogram[0] must hold a bucket from -37220 to 35488 and a count > 0, got 1162903554',
    'a bucket past the largest double');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"histogram": [1146881]}')$$,
    '22023', 'routes[1]: the histogram counts plus zero_count must equal n, got 1 + 0 and n = 2',
    'a histogram that does not count every duration');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"zero_count": 1, "histogram": [1146881]}')$$,
    '22023', 'routes[1]: zero_count must be 0 when lo > 0, got zero_count = 1, lo = 1', 'zeros above the minimum');
SELECT throws_ok($$SELECT pg_temp.bad_route('{"lo": 0, "hi": 0, "d": 0}')$$,
    '22023', 'routes[1]: histogram must be empty when hi = 0', 'positive durations below the maximum');

SELECT is(
    (SELECT count(*) FROM pgmetrics.route_cells) + (SELECT count(*) FROM pgmetrics.operation_cells),
    0::bigint,
    'no rejected batch wrote a metric row'
);
SELECT is((SELECT count(*) FROM pgmetrics.ingested_batches), 0::bigint, 'no rejected batch recorded its id');

SELECT * FROM finish();
ROLLBACK;
