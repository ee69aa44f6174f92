BEGIN;
SELECT plan(7);

SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 10, '2026-03-01 10:05+00');
SELECT pgmetrics.record_route_metric('/users/{id}', 'get', false, 30, '2026-03-01 10:45+00');
SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 2, '2026-03-01 11:20+00');
SELECT pgmetrics.record_route_metric('/orders', 'POST', true, 7, '2026-03-01 10:20+00');
SELECT pgmetrics.record_operation_metric('send_email', true, 5, '2026-03-01 10:10+00');
SELECT pgmetrics.record_operation_metric('send_email', false, 9, '2026-03-01 10:50+00');

SELECT is(
    (SELECT count(*) FROM pgmetrics.route_metrics) + (SELECT count(*) FROM pgmetrics.operation_metrics),
    0::bigint,
    'a direct call appends an event and writes no hourly row'
);
SELECT is(
    pgmetrics.fold_events(),
    '{"route_cells_folded": 0, "route_events_folded": 4, "operation_cells_folded": 0, "operation_events_folded": 2,
      "route_keys_overflowed": 0, "operation_keys_overflowed": 0}'::jsonb,
    'the fold reports the events it moved'
);
SELECT results_eq(
    $$SELECT route, method, period_start, total_requests, successful, failed, total_duration_ms, min_duration_ms,
             max_duration_ms, last_request_at
      FROM pgmetrics.route_metrics ORDER BY 1, 2, 3$$,
    $$VALUES
        ('/orders', 'POST', '2026-03-01 10:00+00'::timestamptz, 1::bigint, 1::bigint, 0::bigint, 7::float8,
         7::float8, 7::float8, '2026-03-01 10:20+00'::timestamptz),
        ('/users/{id}', 'GET', '2026-03-01 10:00+00'::timestamptz, 2::bigint, 1::bigint, 1::bigint, 40::float8,
         10::float8, 30::float8, '2026-03-01 10:45+00'::timestamptz),
        ('/users/{id}', 'GET', '2026-03-01 11:00+00'::timestamptz, 1::bigint, 1::bigint, 0::bigint, 2::float8,
         2::float8, 2::float8, '2026-03-01 11:20+00'::timestamptz)$$,
    'events are summed per key and UTC hour, with min, max and the latest time'
);
SELECT results_eq(
    $$SELECT route, total_requests, failed, total_duration_ms FROM pgmetrics.route_metrics_rollup
      WHERE grain = 'day' AND zone = 'UTC' ORDER BY 1$$,
    $$VALUES ('/orders', 1::bigint, 0::bigint, 7::float8), ('/users/{id}', 3::bigint, 1::bigint, 42::float8)$$,
    'the same fold rolls the hours up into their UTC days'
);
SELECT results_eq(
    $$SELECT operation, total_executions, successful, failed, total_duration_ms, min_duration_ms, max_duration_ms
      FROM pgmetrics.operation_metrics$$,
    $$VALUES ('send_email', 2::bigint, 1::bigint, 1::bigint, 14::float8, 5::float8, 9::float8)$$,
    'operation events are folded the same way'
);
SELECT is(
    (SELECT count(*) FROM pgmetrics.route_events) + (SELECT count(*) FROM pgmetrics.operation_events),
    0::bigint,
    'no event is left pending'
);

SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 1, '2026-03-01 10:59+00');
SELECT pgmetrics.fold_events();
SELECT results_eq(
    $$SELECT total_requests, min_duration_ms, last_request_at FROM pgmetrics.route_metrics
      WHERE route = '/users/{id}' AND period_start = '2026-03-01 10:00+00'$$,
    $$VALUES (3::bigint, 1::float8, '2026-03-01 10:59+00'::timestamptz)$$,
    'a later fold adds to the hourly row already there'
);

SELECT * FROM finish();
ROLLBACK;
