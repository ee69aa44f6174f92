BEGIN;
SELECT plan(9);

-- The role matrix lists domains, enums and ranges; the composite cell types of ingest_batch are checked here.
CREATE ROLE pgmetrics_test_nobody LOGIN;
CREATE ROLE pgmetrics_test_writer LOGIN;
GRANT pgmetrics_writer TO pgmetrics_test_writer;
GRANT USAGE ON SCHEMA pgmetrics TO pgmetrics_test_nobody;

SELECT ok(NOT has_type_privilege('public', 'pgmetrics.route_cell', 'USAGE'), 'PUBLIC may not use route_cell');
SELECT ok(NOT has_type_privilege('public', 'pgmetrics.operation_cell', 'USAGE'), 'PUBLIC may not use operation_cell');
SELECT ok(has_type_privilege('pgmetrics_writer', 'pgmetrics.route_cell', 'USAGE'), 'the writer may use route_cell');
SELECT ok(has_type_privilege('pgmetrics_writer', 'pgmetrics.operation_cell', 'USAGE'),
    'the writer may use operation_cell');
SELECT ok(NOT has_type_privilege('pgmetrics_reader', 'pgmetrics.route_cell', 'USAGE'),
    'the reader may not use route_cell');
SELECT is(
    (SELECT array_agg(DISTINCT a.grantee::regrole::text ORDER BY a.grantee::regrole::text)
     FROM pg_type AS t, LATERAL aclexplode(t.typacl) AS a
     WHERE t.oid IN ('pgmetrics.route_cell'::regtype, 'pgmetrics.operation_cell'::regtype) AND a.grantee <> t.typowner),
    ARRAY['pgmetrics_writer'],
    'the writer is the only grantee of the two types'
);

SET LOCAL ROLE pgmetrics_test_nobody;
SELECT throws_ok($$CREATE TEMP TABLE nobody_cells (c pgmetrics.route_cell)$$, '42501', NULL,
    'a role with neither cannot use a route cell');
RESET ROLE;
SET LOCAL ROLE pgmetrics_test_writer;
SELECT lives_ok($$CREATE TEMP TABLE writer_cells (r pgmetrics.route_cell, o pgmetrics.operation_cell[])$$, 'a writer can');
SELECT lives_ok(
    $$SELECT pgmetrics.ingest_batch(gen_random_uuid(), ARRAY[ROW('/x', 'GET', '2026-03-01 10:00:00+00', 1, 1, 1, 1, 1,
        '2026-03-01 10:00:00+00', 0, '{1146881}')::pgmetrics.route_cell], NULL)$$,
    'and ingest typed cells'
);
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
