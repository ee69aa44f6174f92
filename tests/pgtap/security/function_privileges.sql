BEGIN;
SELECT plan(23);

-- Recording functions: SECURITY DEFINER, pinned search_path, EXECUTE for the writer only.
SELECT is_definer('pgmetrics', 'record_route_metric',
    ARRAY['text', 'text', 'boolean', 'double precision', 'timestamp with time zone'],
    'record_route_metric is SECURITY DEFINER');
SELECT is_definer('pgmetrics', 'record_operation_metric',
    ARRAY['text', 'boolean', 'double precision', 'timestamp with time zone'],
    'record_operation_metric is SECURITY DEFINER');
SELECT function_privs_are('pgmetrics', 'record_route_metric',
    ARRAY['text', 'text', 'boolean', 'double precision', 'timestamp with time zone'],
    'pgmetrics_writer', ARRAY['EXECUTE'], 'the writer may record routes');
SELECT function_privs_are('pgmetrics', 'record_route_metric',
    ARRAY['text', 'text', 'boolean', 'double precision', 'timestamp with time zone'],
    'pgmetrics_reader', ARRAY[]::text[], 'the reader may not record routes');
SELECT function_privs_are('pgmetrics', 'record_route_metric',
    ARRAY['text', 'text', 'boolean', 'double precision', 'timestamp with time zone'],
    'public', ARRAY[]::text[], 'PUBLIC may not record routes');
SELECT function_privs_are('pgmetrics', 'record_operation_metric',
    ARRAY['text', 'boolean', 'double precision', 'timestamp with time zone'],
    'pgmetrics_writer', ARRAY['EXECUTE'], 'the writer may record operations');
SELECT function_privs_are('pgmetrics', 'record_operation_metric',
    ARRAY['text', 'boolean', 'double precision', 'timestamp with time zone'],
    'pgmetrics_reader', ARRAY[]::text[], 'the reader may not record operations');
SELECT function_privs_are('pgmetrics', 'record_operation_metric',
    ARRAY['text', 'boolean', 'double precision', 'timestamp with time zone'],
    'public', ARRAY[]::text[], 'PUBLIC may not record operations');

-- Private helpers: nobody but the owner runs them.
SELECT function_privs_are('pgmetrics', '_check_name', ARRAY['text', 'text'], 'public', ARRAY[]::text[],
    '_check_name is private');
SELECT function_privs_are('pgmetrics', '_check_method', ARRAY['text'], 'public', ARRAY[]::text[],
    '_check_method is private');
SELECT function_privs_are('pgmetrics', '_check_name', ARRAY['text', 'text'], 'pgmetrics_writer', ARRAY[]::text[],
    'the writer cannot call _check_name directly');

-- Every function of the schema pins its search_path, and every one is documented.
-- An aggregate cannot SET search_path: its support functions must, unless they are built-in C functions, which
-- resolve no names.
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc AS p
     WHERE p.pronamespace = 'pgmetrics'::regnamespace AND p.prokind <> 'a'
       AND (p.proconfig IS NULL OR NOT p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'])),
    NULL,
    'every pgmetrics function sets search_path = pg_catalog, pg_temp'
);
SELECT is(
    (SELECT array_agg(a.aggfnoid::regprocedure::text || ' ' || f.oid::regprocedure::text ORDER BY 1)
     FROM pg_aggregate AS a
     JOIN pg_proc AS p ON p.oid = a.aggfnoid
     JOIN pg_proc AS f ON f.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn,
                                    a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn)
     WHERE p.pronamespace = 'pgmetrics'::regnamespace
       AND NOT (f.pronamespace = 'pg_catalog'::regnamespace
                AND f.prolang = (SELECT l.oid FROM pg_language AS l WHERE l.lanname = 'internal'))
       AND (f.pronamespace <> 'pgmetrics'::regnamespace
            OR f.proconfig IS NULL OR NOT f.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'])),
    NULL,
    'every support function of a pgmetrics aggregate is a built-in function or a pgmetrics function with a pinned '
    'search_path'
);
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc AS p
     WHERE p.pronamespace = 'pgmetrics'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL),
    NULL,
    'every pgmetrics function has a COMMENT'
);
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc AS p
     WHERE p.pronamespace = 'pgmetrics'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')),
    NULL,
    'PUBLIC may execute no pgmetrics function'
);
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc AS p
     WHERE p.pronamespace = 'pgmetrics'::regnamespace AND p.prosecdef
       AND NOT (p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'])),
    NULL,
    'no SECURITY DEFINER function without a pinned search_path'
);

-- A login role granted pgmetrics_writer can record and cannot touch the tables.
CREATE ROLE pgmetrics_test_app LOGIN;
GRANT pgmetrics_writer TO pgmetrics_test_app;
SET ROLE pgmetrics_test_app;
SELECT lives_ok($$SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 12.5)$$,
    'a member of pgmetrics_writer records a route');
SELECT throws_ok($$SELECT count(*) FROM pgmetrics.route_metrics$$, '42501', NULL,
    'a member of pgmetrics_writer cannot SELECT the table');
SELECT throws_ok($$UPDATE pgmetrics.route_metrics SET total_requests = 0$$, '42501', NULL,
    'a member of pgmetrics_writer cannot UPDATE the table');
SELECT throws_ok($$DELETE FROM pgmetrics.operation_metrics$$, '42501', NULL,
    'a member of pgmetrics_writer cannot DELETE from the table');
SELECT throws_ok($$SELECT count(*) FROM pgmetrics.route_events$$, '42501', NULL,
    'a member of pgmetrics_writer cannot SELECT the pending events');
SELECT throws_ok($$SELECT pgmetrics.fold_events()$$, '42501', NULL,
    'a member of pgmetrics_writer cannot fold: only the owner holds the fold''s lock');
RESET ROLE;
SELECT pgmetrics.fold_events();
SELECT is((SELECT total_requests FROM pgmetrics.route_metrics WHERE route = '/users/{id}'), 1::bigint,
    'the request recorded by the application role was stored');

SELECT * FROM finish();
ROLLBACK;
