BEGIN;
SELECT plan(3);

-- Every function of the schema pins the four settings that change what timestamptz arithmetic, text rendering and name
-- lookup give, so nothing depends on the caller's session. The exceptions are the per-element histogram helpers
-- (_histogram_*, and the step and final functions of the schema's aggregates): they work on int arrays and doubles
-- only, and are called once per row or element, where a SET clause would save and restore the settings each call;
-- and the two recording functions, called once per request, which store nothing that reads the three settings
-- (tests/test_hostile_session.py holds them to that) and pin search_path only.
CREATE TEMPORARY VIEW pinned_candidates AS
SELECT p.oid::regprocedure::text AS function, COALESCE(p.proconfig, '{}') AS config
FROM pg_catalog.pg_proc AS p
WHERE p.pronamespace = 'pgmetrics'::regnamespace
    AND p.prokind IN ('f', 'p')
    AND p.proname !~ '^_histogram_'
    AND p.proname NOT IN ('record_route_metric', 'record_operation_metric')
    AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_aggregate AS a
        WHERE p.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn)
    );

SELECT cmp_ok((SELECT count(*) FROM pinned_candidates), '>=', 25::bigint,
    'the public functions and private bodies are all checked');

SELECT is_empty($$
    SELECT c.function FROM pinned_candidates AS c
    WHERE NOT c.config @> ARRAY[
        'search_path=pg_catalog, pg_temp', 'TimeZone=UTC', 'DateStyle=ISO, YMD', 'IntervalStyle=postgres'
    ]
    ORDER BY 1
$$, 'every function but the per-element histogram helpers pins search_path, TimeZone, DateStyle and IntervalStyle');

SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc AS p
    WHERE p.pronamespace = 'pgmetrics'::regnamespace
        AND p.proname IN ('record_route_metric', 'record_operation_metric')
        AND NOT COALESCE(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp']
$$, 'the recording functions pin search_path');

SELECT * FROM finish();
ROLLBACK;
