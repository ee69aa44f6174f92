BEGIN;
SELECT plan(5);

SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, 1, '294276-12-31 23:00:00+00')$$,
    '22023', 'at must be between 0001-01-01 and 9999-12-31 UTC, got 294276-12-31 23:00:00+00',
    'a time whose day would end beyond timestamptz is rejected at once');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('op', true, 1, '4713-01-01 00:00:00+00 BC')$$,
    '22023', NULL, 'so is a time before year 1');
SELECT lives_ok($$SELECT pgmetrics.record_route_metric('/x', 'GET', true, 1, '9999-12-31 23:59:59+00')$$,
    'the last second of year 9999 is accepted');
SELECT lives_ok($$SELECT pgmetrics.fold_events()$$, 'and folds into its hour and day');
SELECT is((SELECT count(*) FROM pgmetrics.route_events), 0::bigint, 'nothing is left pending');

SELECT * FROM finish();
ROLLBACK;
