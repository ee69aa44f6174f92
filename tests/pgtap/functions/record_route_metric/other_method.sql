BEGIN;
SELECT plan(3);

-- Requests whose method is not a standard one share one key, as the middleware sends them.
SELECT pgmetrics.record_route_metric('/scan', '_other', false, 3, '2026-03-01 10:17:00+00');
SELECT pgmetrics.record_route_metric('/scan', '_OTHER', true, 5, '2026-03-01 10:18:00+00');
SELECT pgmetrics.fold_events();

SELECT results_eq(
    $$SELECT method, total_requests, failed FROM pgmetrics.route_metrics WHERE route = '/scan'$$,
    $$VALUES ('_OTHER', 2::bigint, 1::bigint)$$,
    '_OTHER in any case is one key, stored upper case'
);
SELECT throws_ok(
    $$SELECT pgmetrics.record_route_metric('/scan', 'PROPFIND', true, 1)$$,
    '22023',
    NULL,
    'a method that is neither standard nor _OTHER is refused'
);
SELECT throws_ok(
    $$SELECT pgmetrics.record_route_metric('/scan', '_OTHERS', true, 1)$$,
    '22023',
    NULL,
    'only the exact _OTHER key is accepted'
);

SELECT * FROM finish();
ROLLBACK;
