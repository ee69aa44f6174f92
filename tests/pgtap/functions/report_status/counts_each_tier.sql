BEGIN;
SELECT plan(11);

SET LOCAL timezone = 'UTC';
SELECT is(
    pgmetrics.report_status() -> 'tiers',
    '{"route_metrics": 0, "operation_metrics": 0, "route_metrics_rollup": 0, "operation_metrics_rollup": 0,
      "ingested_batches": 0, "route_cells": 0, "operation_cells": 0, "route_events": 0,
      "operation_events": 0}'::jsonb,
    'a new store: every tier is empty'
);
SELECT is(
    pgmetrics.report_status() - 'tiers' - 'owner',
    '{"oldest_detail": null, "newest_detail": null, "report_zones": [], "last_retention_run": null,
      "pg_cron": false, "cron_readable": false, "retention_job": null, "fold_job": null,
      "settings": {"retention_days": 90, "summary_retention_days": 730, "batch_retention_days": 7,
        "max_keys_per_hour": 20000}}'::jsonb,
    'a new store: the default settings, no detail, no retention run, no pg_cron'
);

-- Two direct calls and one batch of one route cell and one operation cell.
SELECT pgmetrics.record_route_metric('/a', 'GET', true, 1, '2026-03-01 10:15+00');
SELECT pgmetrics.record_operation_metric('job', true, 1, '2026-03-02 11:15+00');
SELECT pgmetrics.ingest_batch(
    '00000000-0000-4000-8000-000000000001',
    jsonb_build_array(jsonb_build_object(
        'r', '/b', 'm', 'POST', 'h', '2026-03-02 23:00+00', 'n', 1, 's', 1, 'f', 0, 'd', 2, 'lo', 2, 'hi', 2,
        't', '2026-03-02 23:10+00', 'zero_count', 0, 'histogram', jsonb_build_array((pgmetrics._histogram_bucket(2) << 15) | 1)
    )),
    jsonb_build_array(jsonb_build_object(
        'o', 'job', 'h', '2026-03-02 11:00+00', 'n', 1, 's', 1, 'f', 0, 'd', 2, 'lo', 2, 'hi', 2,
        't', '2026-03-02 11:20+00', 'zero_count', 0, 'histogram', jsonb_build_array((pgmetrics._histogram_bucket(2) << 15) | 1)
    ))
);
SELECT is(
    pgmetrics.report_status() -> 'tiers',
    '{"route_metrics": 0, "operation_metrics": 0, "route_metrics_rollup": 0, "operation_metrics_rollup": 0,
      "ingested_batches": 1, "route_cells": 1, "operation_cells": 1, "route_events": 1,
      "operation_events": 1}'::jsonb,
    'before a fold: the calls are pending events, the batch pending cells under one batch id'
);

SELECT pgmetrics.fold_events();
SELECT is((pgmetrics.report_status() -> 'tiers' ->> 'route_metrics')::int, 2, 'folded: two route hours');
SELECT is((pgmetrics.report_status() -> 'tiers' ->> 'operation_metrics')::int, 1,
    'folded: the two operation records share one hour');
SELECT is(
    (pgmetrics.report_status() -> 'tiers' ->> 'route_metrics_rollup')::int,
    (SELECT count(*)::int FROM pgmetrics.route_metrics_rollup),
    'the route rollup count is the table''s'
);
SELECT is(
    (pgmetrics.report_status() -> 'tiers')
        - ARRAY['route_metrics', 'operation_metrics', 'route_metrics_rollup', 'operation_metrics_rollup',
                'ingested_batches'],
    '{"route_cells": 0, "operation_cells": 0, "route_events": 0, "operation_events": 0}'::jsonb,
    'folded: nothing is pending'
);
SELECT is(
    ARRAY[(pgmetrics.report_status() ->> 'oldest_detail')::timestamptz,
          (pgmetrics.report_status() ->> 'newest_detail')::timestamptz],
    ARRAY['2026-03-01 10:00+00', '2026-03-03 00:00+00']::timestamptz[],
    'the oldest route hour starts at 10:00 on the first day, the newest ends at midnight after the last'
);

SELECT pgmetrics.set_setting('retention_days', 30);
SELECT is((pgmetrics.report_status() -> 'settings' ->> 'retention_days')::int, 30, 'a changed setting is reported');

CREATE TEMP TABLE ran AS SELECT pgmetrics.run_retention('2026-06-01 12:00+00') AS result;
SELECT is(pgmetrics.report_status() -> 'last_retention_run' -> 'result', (SELECT result FROM ran),
    'the last retention run is reported with its result');
SELECT is((pgmetrics.report_status() -> 'tiers' ->> 'route_metrics')::int, 0,
    'after the run: the expired hours are no longer counted');

SELECT * FROM finish();
ROLLBACK;
