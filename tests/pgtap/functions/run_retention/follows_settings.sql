BEGIN;
SELECT plan(3);

SELECT pgmetrics.set_setting('retention_days', 1);
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1, '2026-05-30 23:00+00');
SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1, '2026-05-31 00:00+00');

-- now = 2026-06-01 12:00: one day back is 2026-05-31 12:00, truncated to the whole UTC day.
SELECT is(
    (pgmetrics.run_retention('2026-06-01 12:00+00')->>'detail_cutoff')::timestamptz,
    '2026-05-31 00:00+00'::timestamptz,
    'retention_days = 1 keeps yesterday and today'
);
SELECT is((SELECT count(*) FROM pgmetrics.route_metrics), 1::bigint, 'the day before yesterday is gone');
SELECT function_privs_are('pgmetrics', 'run_retention', ARRAY['timestamp with time zone'], 'pgmetrics_writer',
    ARRAY[]::text[], 'the writer cannot run retention');

SELECT * FROM finish();
ROLLBACK;
