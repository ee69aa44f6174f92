BEGIN;
SELECT plan(57);

-- The roles of the matrix: the two group roles, a fresh role with neither, and PUBLIC, plus
-- one login role per group for the behavioural checks.
CREATE ROLE pgmetrics_test_nobody LOGIN;
CREATE ROLE pgmetrics_test_writer LOGIN;
CREATE ROLE pgmetrics_test_reader LOGIN;
GRANT pgmetrics_writer TO pgmetrics_test_writer;
GRANT pgmetrics_reader TO pgmetrics_test_reader;

-- Every object of the schema is enumerated from the catalog, so a new one cannot escape the
-- matrix: the exact set of privileges held by anyone but the owner.
CREATE TEMPORARY VIEW pgmetrics_grants AS
SELECT o.kind, o.name, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
       a.privilege_type AS privilege
FROM (
    SELECT 'schema' AS kind, n.nspname::text AS name, n.nspowner AS owner,
           coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) AS acl
    FROM pg_catalog.pg_namespace AS n WHERE n.nspname = 'pgmetrics'
    UNION ALL
    SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'S' THEN 'sequence'
                          ELSE 'relation ' || c.relkind::text END,
           c.oid::regclass::text, c.relowner,
           coalesce(c.relacl, pg_catalog.acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))
    FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace = 'pgmetrics'::regnamespace AND c.relkind NOT IN ('i', 'I', 't', 'c')
    UNION ALL
    SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END,
           p.oid::regprocedure::text, p.proowner,
           coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))
    FROM pg_catalog.pg_proc AS p WHERE p.pronamespace = 'pgmetrics'::regnamespace
    UNION ALL
    SELECT 'type', t.oid::regtype::text, t.typowner,
           coalesce(t.typacl, pg_catalog.acldefault('T', t.typowner))
    FROM pg_catalog.pg_type AS t
    WHERE t.typnamespace = 'pgmetrics'::regnamespace AND t.typtype IN ('d', 'e', 'r', 'm')
) AS o
CROSS JOIN LATERAL pg_catalog.aclexplode(o.acl) AS a
WHERE a.grantee <> o.owner;

SELECT set_eq(
    'SELECT kind, name, grantee, privilege FROM pgmetrics_grants',
    $$VALUES
        ('schema', 'pgmetrics', 'pgmetrics_writer', 'USAGE'),
        ('schema', 'pgmetrics', 'pgmetrics_reader', 'USAGE'),
        ('function', 'pgmetrics.record_route_metric(text,text,boolean,double precision,timestamp with time zone)',
         'pgmetrics_writer', 'EXECUTE'),
        ('function', 'pgmetrics.record_operation_metric(text,boolean,double precision,timestamp with time zone)',
         'pgmetrics_writer', 'EXECUTE'),
        ('function', 'pgmetrics.ingest_batch(uuid,jsonb,jsonb)', 'pgmetrics_writer', 'EXECUTE'),
        ('function', 'pgmetrics.ingest_batch(uuid,pgmetrics.route_cell[],pgmetrics.operation_cell[])',
         'pgmetrics_writer', 'EXECUTE'),
        ('function', 'pgmetrics.route_metrics_summary(timestamp with time zone,timestamp with time zone,text,text,text,text)',
         'pgmetrics_reader', 'EXECUTE'),
        ('function', 'pgmetrics.operation_metrics_summary(timestamp with time zone,timestamp with time zone,text,text,text)',
         'pgmetrics_reader', 'EXECUTE'),
        ('function', 'pgmetrics.report_status()', 'pgmetrics_reader', 'EXECUTE'),
        ('function', 'pgmetrics.route_duration_quantile(double precision,timestamp with time zone,timestamp with time zone,text,text)',
         'pgmetrics_reader', 'EXECUTE'),
        ('function', 'pgmetrics.operation_duration_quantile(double precision,timestamp with time zone,timestamp with time zone,text)',
         'pgmetrics_reader', 'EXECUTE'),
        ('function', 'pgmetrics.route_duration_histogram(timestamp with time zone,timestamp with time zone,text,text)',
         'pgmetrics_reader', 'EXECUTE'),
        ('function', 'pgmetrics.operation_duration_histogram(timestamp with time zone,timestamp with time zone,text)',
         'pgmetrics_reader', 'EXECUTE'),
        ('aggregate', 'pgmetrics._histogram_concat(integer[])', 'pgmetrics_reader', 'EXECUTE'),
        ('view', 'pgmetrics.route_metrics_by_hour', 'pgmetrics_reader', 'SELECT'),
        ('view', 'pgmetrics.route_metrics_by_day', 'pgmetrics_reader', 'SELECT'),
        ('view', 'pgmetrics.route_metrics_by_week', 'pgmetrics_reader', 'SELECT'),
        ('view', 'pgmetrics.operation_metrics_by_hour', 'pgmetrics_reader', 'SELECT'),
        ('view', 'pgmetrics.operation_metrics_by_day', 'pgmetrics_reader', 'SELECT'),
        ('view', 'pgmetrics.operation_metrics_by_week', 'pgmetrics_reader', 'SELECT'),
        ('view', 'pgmetrics.route_metrics_by_month', 'pgmetrics_reader', 'SELECT'),
        ('view', 'pgmetrics.operation_metrics_by_month', 'pgmetrics_reader', 'SELECT')$$,
    'the only privileges on pgmetrics objects are the ones the README grants'
);

SELECT is(
    (SELECT array_agg(DISTINCT g.name ORDER BY g.name) FROM pgmetrics_grants AS g WHERE g.kind IN ('table', 'sequence')),
    NULL,
    'nobody but the owner holds any privilege on a table or sequence'
);
SELECT is(
    (SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'pgmetrics'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity),
    NULL,
    'row level security is enabled on every table'
);
SELECT is(
    (SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'pgmetrics'::regnamespace AND c.relkind = 'v'
       AND coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)),
    NULL,
    'no view runs as its invoker: the reader reads through the owner'
);

-- Effective privileges (membership included) of every role on every object of the schema.
CREATE TEMPORARY TABLE matrix_roles (role text);
INSERT INTO matrix_roles VALUES
    ('pgmetrics_writer'), ('pgmetrics_reader'), ('pgmetrics_test_nobody'), ('public'),
    ('pgmetrics_test_writer'), ('pgmetrics_test_reader');
GRANT SELECT ON matrix_roles TO public;

CREATE TEMPORARY VIEW effective AS
SELECT r.role, 'function' AS kind, p.oid::regprocedure::text AS name, 'EXECUTE' AS privilege
FROM matrix_roles AS r CROSS JOIN pg_catalog.pg_proc AS p
WHERE p.pronamespace = 'pgmetrics'::regnamespace AND pg_catalog.has_function_privilege(r.role, p.oid, 'EXECUTE')
UNION ALL
SELECT r.role, 'relation', c.oid::regclass::text, priv
FROM matrix_roles AS r CROSS JOIN pg_catalog.pg_class AS c
CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS priv
WHERE c.relnamespace = 'pgmetrics'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND pg_catalog.has_table_privilege(r.role, c.oid, priv)
UNION ALL
SELECT r.role, 'sequence', c.oid::regclass::text, priv
FROM matrix_roles AS r CROSS JOIN pg_catalog.pg_class AS c CROSS JOIN unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS priv
WHERE c.relnamespace = 'pgmetrics'::regnamespace AND c.relkind = 'S'
  AND pg_catalog.has_sequence_privilege(r.role, c.oid, priv)
UNION ALL
SELECT r.role, 'schema', 'pgmetrics', priv
FROM matrix_roles AS r CROSS JOIN unnest(ARRAY['USAGE', 'CREATE']) AS priv
WHERE pg_catalog.has_schema_privilege(r.role, 'pgmetrics', priv);

SELECT set_eq(
    $$SELECT role, kind, name, privilege FROM effective WHERE role IN ('pgmetrics_writer', 'pgmetrics_test_writer')$$,
    $$SELECT w.role, v.kind, v.name, v.privilege
      FROM (VALUES ('pgmetrics_writer'), ('pgmetrics_test_writer')) AS w (role)
      CROSS JOIN (VALUES
        ('schema', 'pgmetrics', 'USAGE'),
        ('function', 'pgmetrics.record_route_metric(text,text,boolean,double precision,timestamp with time zone)', 'EXECUTE'),
        ('function', 'pgmetrics.record_operation_metric(text,boolean,double precision,timestamp with time zone)', 'EXECUTE'),
        ('function', 'pgmetrics.ingest_batch(uuid,jsonb,jsonb)', 'EXECUTE'),
        ('function', 'pgmetrics.ingest_batch(uuid,pgmetrics.route_cell[],pgmetrics.operation_cell[])', 'EXECUTE')
      ) AS v (kind, name, privilege)$$,
    'the writer and its members may use the schema and execute the three recording functions, nothing else: not '
    'fold_events, whose lock a writer would hold to the end of its transaction'
);
SELECT set_eq(
    $$SELECT role, kind, name, privilege FROM effective WHERE role IN ('pgmetrics_reader', 'pgmetrics_test_reader')$$,
    $$SELECT w.role, v.kind, v.name, v.privilege
      FROM (VALUES ('pgmetrics_reader'), ('pgmetrics_test_reader')) AS w (role)
      CROSS JOIN (VALUES
        ('schema', 'pgmetrics', 'USAGE'),
        ('function', 'pgmetrics.route_metrics_summary(timestamp with time zone,timestamp with time zone,text,text,text,text)', 'EXECUTE'),
        ('function', 'pgmetrics.operation_metrics_summary(timestamp with time zone,timestamp with time zone,text,text,text)', 'EXECUTE'),
        ('function', 'pgmetrics.report_status()', 'EXECUTE'),
        ('function', 'pgmetrics.route_duration_quantile(double precision,timestamp with time zone,timestamp with time zone,text,text)', 'EXECUTE'),
        ('function', 'pgmetrics.operation_duration_quantile(double precision,timestamp with time zone,timestamp with time zone,text)', 'EXECUTE'),
        ('function', 'pgmetrics.route_duration_histogram(timestamp with time zone,timestamp with time zone,text,text)', 'EXECUTE'),
        ('function', 'pgmetrics.operation_duration_histogram(timestamp with time zone,timestamp with time zone,text)', 'EXECUTE'),
        ('function', 'pgmetrics._histogram_concat(integer[])', 'EXECUTE'),
        ('relation', 'pgmetrics.route_metrics_by_hour', 'SELECT'),
        ('relation', 'pgmetrics.route_metrics_by_day', 'SELECT'),
        ('relation', 'pgmetrics.route_metrics_by_week', 'SELECT'),
        ('relation', 'pgmetrics.operation_metrics_by_hour', 'SELECT'),
        ('relation', 'pgmetrics.operation_metrics_by_day', 'SELECT'),
        ('relation', 'pgmetrics.operation_metrics_by_week', 'SELECT'),
        ('relation', 'pgmetrics.route_metrics_by_month', 'SELECT'),
        ('relation', 'pgmetrics.operation_metrics_by_month', 'SELECT')) AS v (kind, name, privilege)$$,
    'the reader and its members may use the schema, execute the summaries, the quantile functions, report_status and '
    'the aggregate the views call, and read the eight views, nothing else'
);
SELECT is_empty(
    $$SELECT role, kind, name, privilege FROM effective WHERE role IN ('pgmetrics_test_nobody', 'public')$$,
    'a role with neither group, and PUBLIC, hold no privilege at all on the schema or its objects'
);

-- Behaviour: the writer.
SET ROLE pgmetrics_test_writer;
SELECT lives_ok($$SELECT pgmetrics.record_route_metric('/matrix', 'GET', true, 1.5)$$,
    'writer: record_route_metric works');
SELECT lives_ok($$SELECT pgmetrics.record_operation_metric('matrix.op', true, 1.5)$$,
    'writer: record_operation_metric works');
SELECT lives_ok($$SELECT pgmetrics.ingest_batch('00000000-0000-4000-8000-000000000001', '[]'::jsonb, '[]'::jsonb)$$,
    'writer: ingest_batch works');
SELECT throws_ok($$SELECT pgmetrics.fold_events()$$, '42501', NULL,
    'writer: fold_events is denied (the owner folds: a writer could hold the fold''s lock in an open transaction)');
SELECT throws_ok($$SELECT 1 FROM pgmetrics.locks FOR UPDATE$$, '42501', NULL, 'writer: the fold''s lock row is denied');
SELECT throws_ok($$SELECT pgmetrics.add_report_zone('Asia/Tokyo')$$, '42501', NULL, 'writer: add_report_zone is denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2026-01-02')$$, '42501', NULL,
    'writer: route_metrics_summary is denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.operation_metrics_summary('2026-01-01', '2026-01-02')$$, '42501', NULL,
    'writer: operation_metrics_summary is denied');
SELECT throws_ok($$SELECT pgmetrics.report_status()$$, '42501', NULL, 'writer: report_status is denied');
SELECT throws_ok($$SELECT pgmetrics.set_setting('detail_retention_days', 30)$$, '42501', NULL,
    'writer: set_setting is denied');
SELECT throws_ok($$SELECT pgmetrics.run_retention()$$, '42501', NULL, 'writer: run_retention is denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_by_hour$$, '42501', NULL, 'writer: the views are denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics$$, '42501', NULL, 'writer: SELECT on a table is denied');
SELECT throws_ok($$INSERT INTO pgmetrics.ingested_batches DEFAULT VALUES$$, '42501', NULL,
    'writer: INSERT into a table is denied');
SELECT throws_ok($$TRUNCATE pgmetrics.settings$$, '42501', NULL, 'writer: TRUNCATE of a table is denied');
SELECT throws_ok($$SELECT pgmetrics._check_name('route', 'x')$$, '42501', NULL, 'writer: a private function is denied');
SELECT throws_ok($$CREATE TABLE pgmetrics.intruder (x int)$$, '42501', NULL,
    'writer: CREATE in the schema is denied');
RESET ROLE;

-- Behaviour: the reader.
SET ROLE pgmetrics_test_reader;
SELECT is((SELECT count(*) FROM pgmetrics.route_metrics_summary('2020-01-01', '2100-01-01', 'all')), 1::bigint,
    'reader: route_metrics_summary works and sees the writer''s route');
SELECT is((SELECT count(*) FROM pgmetrics.operation_metrics_summary('2020-01-01', '2100-01-01', 'all')), 1::bigint,
    'reader: operation_metrics_summary works and sees the writer''s operation');
SELECT lives_ok($$SELECT pgmetrics.report_status()$$, 'reader: report_status works');
-- Every column of every view, and every summary shape: a count(*) would let the planner skip a column that fails.
SELECT lives_ok($$SELECT * FROM pgmetrics.route_metrics_by_hour$$, 'reader: every column of route_metrics_by_hour');
SELECT lives_ok($$SELECT * FROM pgmetrics.route_metrics_by_day$$, 'reader: every column of route_metrics_by_day');
SELECT lives_ok($$SELECT * FROM pgmetrics.route_metrics_by_week$$, 'reader: every column of route_metrics_by_week');
SELECT lives_ok($$SELECT * FROM pgmetrics.route_metrics_by_month$$, 'reader: every column of route_metrics_by_month');
SELECT lives_ok($$SELECT * FROM pgmetrics.operation_metrics_by_hour$$,
    'reader: every column of operation_metrics_by_hour');
SELECT lives_ok($$SELECT * FROM pgmetrics.operation_metrics_by_day$$,
    'reader: every column of operation_metrics_by_day');
SELECT lives_ok($$SELECT * FROM pgmetrics.operation_metrics_by_week$$,
    'reader: every column of operation_metrics_by_week');
SELECT lives_ok($$SELECT * FROM pgmetrics.operation_metrics_by_month$$,
    'reader: every column of operation_metrics_by_month');
SELECT lives_ok(
    $$SELECT s.* FROM unnest(ARRAY['hour', 'day', 'week', 'month', 'all']) AS b (bucket),
          unnest(ARRAY['UTC', 'Asia/Kolkata']) AS z (zone),
          LATERAL pgmetrics.route_metrics_summary('2020-01-01', '2100-01-01', b.bucket, tz => z.zone) AS s$$,
    'reader: every route summary shape, every column');
SELECT lives_ok(
    $$SELECT s.* FROM unnest(ARRAY['hour', 'day', 'week', 'month', 'all']) AS b (bucket),
          LATERAL pgmetrics.operation_metrics_summary('2020-01-01', '2100-01-01', b.bucket) AS s$$,
    'reader: every operation summary shape, every column');
SELECT lives_ok($$SELECT pgmetrics.route_duration_quantile(0.99, '2020-01-01', '2100-01-01'),
                         pgmetrics.operation_duration_quantile(0.99, '2020-01-01', '2100-01-01')$$,
    'reader: the quantile functions work');
SELECT lives_ok($$SELECT * FROM pgmetrics.route_duration_histogram('2020-01-01', '2100-01-01')
                  UNION ALL SELECT * FROM pgmetrics.operation_duration_histogram('2020-01-01', '2100-01-01')$$,
    'reader: the histogram functions work');
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/matrix', 'GET', true, 1.5)$$, '42501', NULL,
    'reader: record_route_metric is denied');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('matrix.op', true, 1.5)$$, '42501', NULL,
    'reader: record_operation_metric is denied');
SELECT throws_ok($$SELECT pgmetrics.ingest_batch('00000000-0000-4000-8000-000000000002', '[]'::jsonb, '[]'::jsonb)$$, '42501', NULL,
    'reader: ingest_batch is denied');
SELECT throws_ok($$SELECT pgmetrics.set_setting('detail_retention_days', 30)$$, '42501', NULL,
    'reader: set_setting is denied');
SELECT throws_ok($$SELECT pgmetrics.run_retention()$$, '42501', NULL, 'reader: run_retention is denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_rollup$$, '42501', NULL, 'reader: SELECT on a table is denied');
SELECT throws_ok($$UPDATE pgmetrics.settings SET value = 1$$, '42501', NULL, 'reader: UPDATE of a table is denied');
SELECT throws_ok($$SELECT pgmetrics._route_metrics_summary('2026-01-01', '2026-01-02', 'hour', NULL, NULL, 'UTC')$$,
    '42501', NULL, 'reader: the private summary body is denied');
RESET ROLE;

-- Behaviour: a role with neither group.
SET ROLE pgmetrics_test_nobody;
SELECT throws_ok($$SELECT pgmetrics.record_route_metric('/matrix', 'GET', true, 1.5)$$, '42501', NULL,
    'nobody: record_route_metric is denied');
SELECT throws_ok($$SELECT pgmetrics.record_operation_metric('matrix.op', true, 1.5)$$, '42501', NULL,
    'nobody: record_operation_metric is denied');
SELECT throws_ok($$SELECT pgmetrics.ingest_batch('00000000-0000-4000-8000-000000000003', '[]'::jsonb, '[]'::jsonb)$$, '42501', NULL,
    'nobody: ingest_batch is denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.route_metrics_summary('2026-01-01', '2026-01-02')$$, '42501', NULL,
    'nobody: route_metrics_summary is denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.operation_metrics_summary('2026-01-01', '2026-01-02')$$, '42501', NULL,
    'nobody: operation_metrics_summary is denied');
SELECT throws_ok($$SELECT pgmetrics.report_status()$$, '42501', NULL, 'nobody: report_status is denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.operation_metrics_by_day$$, '42501', NULL, 'nobody: the views are denied');
SELECT throws_ok($$SELECT * FROM pgmetrics.operation_metrics$$, '42501', NULL, 'nobody: the tables are denied');
RESET ROLE;

SELECT pgmetrics.fold_events();
SELECT is((SELECT total_requests FROM pgmetrics.route_metrics WHERE route = '/matrix'), 1::bigint,
    'only the writer''s allowed call wrote a route');
SELECT is((SELECT count(*) FROM pgmetrics.ingested_batches), 1::bigint,
    'only the writer''s batch was remembered');

SELECT * FROM finish();
ROLLBACK;
