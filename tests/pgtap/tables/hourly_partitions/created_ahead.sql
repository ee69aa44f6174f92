BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(8);

SELECT is(
    (pgmetrics.run_retention('2026-06-01 12:00+00') ->> 'detail_partitions_created')::int, 8,
    'a run creates the partitions of its UTC day and the next three, for both tables'
);
SELECT results_eq(
    $$SELECT c.relname::text COLLATE "default", pg_get_expr(c.relpartbound, c.oid) COLLATE "default"
      FROM pg_inherits AS i INNER JOIN pg_class AS c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'pgmetrics.route_metrics'::regclass AND c.relname LIKE 'route_metrics_p202606%'
      ORDER BY 1$$,
    $$VALUES
        ('route_metrics_p20260601', 'FOR VALUES FROM (''2026-06-01 00:00:00+00'') TO (''2026-06-02 00:00:00+00'')'),
        ('route_metrics_p20260602', 'FOR VALUES FROM (''2026-06-02 00:00:00+00'') TO (''2026-06-03 00:00:00+00'')'),
        ('route_metrics_p20260603', 'FOR VALUES FROM (''2026-06-03 00:00:00+00'') TO (''2026-06-04 00:00:00+00'')'),
        ('route_metrics_p20260604', 'FOR VALUES FROM (''2026-06-04 00:00:00+00'') TO (''2026-06-05 00:00:00+00'')')$$,
    'each partition holds one UTC day, named after it'
);
SELECT is(
    (SELECT count(*) FROM pg_inherits AS i INNER JOIN pg_class AS c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'pgmetrics.operation_metrics'::regclass AND c.relname LIKE 'operation_metrics_p202606%'),
    4::bigint,
    'operation_metrics gets the same days'
);
SELECT is(
    (pgmetrics.run_retention('2026-06-01 18:00+00') ->> 'detail_partitions_created')::int, 0,
    'a second run the same day creates none'
);
SELECT is(
    (pgmetrics.run_retention('2026-06-02 01:00+00') ->> 'detail_partitions_created')::int, 2,
    'the next day adds the one day that came within reach, for both tables'
);
SELECT is(
    (SELECT count(*)
     FROM pg_inherits AS i
     INNER JOIN pg_class AS c ON c.oid = i.inhrelid
     INNER JOIN pg_class AS p ON p.oid = i.inhparent
     WHERE p.relname IN ('route_metrics', 'operation_metrics') AND p.relnamespace = 'pgmetrics'::regnamespace
       AND (
           NOT c.relrowsecurity OR c.relowner <> p.relowner
           OR EXISTS (SELECT 1 FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
                      WHERE a.grantee <> c.relowner)
       )),
    0::bigint,
    'every partition, the default ones included, has row security, the owner of its table and no privilege granted'
);
SELECT is(
    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgmetrics.route_metrics_pkey'::regclass),
    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgmetrics.route_metrics'::regclass),
    'every route partition carries its part of the primary key'
);
SELECT is(
    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgmetrics.operation_metrics_period_start_idx'::regclass),
    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'pgmetrics.operation_metrics'::regclass),
    'and of the period index'
);

SELECT * FROM finish();
ROLLBACK;
