BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(9);

-- A recent day of the days kept that has no partition yet, far enough from today that no deploy made it ahead.
CREATE TEMPORARY TABLE recent AS
SELECT date_trunc('day', now(), 'UTC') - INTERVAL '20 days' + INTERVAL '10 hours' AS hour;
SELECT ok(
    to_regclass('pgmetrics.route_metrics_p' || to_char((SELECT hour FROM recent), 'YYYYMMDD')) IS NULL,
    'the recent day has no partition yet'
);

SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1, (SELECT hour FROM recent));
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 2, '9999-12-31 23:00+00');  -- a clock far ahead
SELECT pgmetrics.record_operation_metric('op', true, 3, '2001-01-01 10:00+00');  -- a backfill of years ago
SELECT pgmetrics.ingest_batch(
    'c0000000-0000-4000-8000-0000000000aa',
    '[{"r": "/r", "m": "POST", "h": "2002-02-02T02:00:00Z", "n": 1, "s": 1, "f": 0, "d": 4, "lo": 4, "hi": 4,
       "t": "2002-02-02T02:00:00Z", "zero_count": 0, "histogram": [1]}]'::jsonb,
    NULL
);
SELECT lives_ok($$SELECT pgmetrics.fold_events()$$, 'the fold writes hours of days that have no partition');

SELECT results_eq(
    $$SELECT tableoid::regclass::text, method, period_start FROM pgmetrics.route_metrics ORDER BY period_start$$,
    $$VALUES
        ('pgmetrics.route_metrics_default', 'POST', '2002-02-02 02:00+00'::timestamptz),
        ('pgmetrics.route_metrics_p' || to_char((SELECT hour FROM recent), 'YYYYMMDD'), 'GET', (SELECT hour FROM recent)),
        ('pgmetrics.route_metrics_default', 'GET', '9999-12-31 23:00+00')$$,
    'the fold builds the partition of a recent day it writes; hours of days long past or far ahead land in the default partition'
);
SELECT results_eq(
    $$SELECT tableoid::regclass::text, period_start FROM pgmetrics.operation_metrics$$,
    $$VALUES ('pgmetrics.operation_metrics_default', '2001-01-01 10:00+00'::timestamptz)$$,
    'so do operation hours'
);
SELECT is(
    (SELECT total_requests FROM pgmetrics.route_metrics_summary('9999-12-31 00:00+00', '9999-12-31 23:59:59+00', 'hour')),
    1::bigint,
    'rows in the default partition are read like any other'
);

-- A row of a day without a partition, written after the fold built its days (a write racing the fold), waits in
-- the default partition; building its day moves it out.
INSERT INTO pgmetrics.route_metrics (
    route, method, period_start, period_end, total_requests, successful, failed, total_duration_ms,
    min_duration_ms, max_duration_ms, last_request_at
) VALUES (
    '/late', 'GET', '2026-03-05 07:00+00', '2026-03-05 08:00+00', 1, 1, 0, 9, 9, 9, '2026-03-05 07:10+00'
);
SELECT is(
    (SELECT tableoid::regclass::text FROM pgmetrics.route_metrics WHERE route = '/late'),
    'pgmetrics.route_metrics_default',
    'a row of a day without a partition is caught by the default partition'
);
SELECT is(
    pgmetrics._add_detail_partitions('{2026-03-05 12:00+00}'::timestamptz []), 2,
    'building its day creates a partition of each table'
);
SELECT results_eq(
    $$SELECT tableoid::regclass::text, total_requests FROM pgmetrics.route_metrics WHERE route = '/late'$$,
    $$VALUES ('pgmetrics.route_metrics_p20260305', 1::bigint)$$,
    'and moves the row into it, once'
);
SELECT is(
    pgmetrics._add_detail_partitions('{2026-03-05 00:00+00, 2026-03-05 23:59:59+00}'::timestamptz []), 0,
    'a day that has its partitions is left alone'
);

SELECT * FROM finish();
ROLLBACK;
