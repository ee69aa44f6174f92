BEGIN;
SELECT plan(15);

-- An application role with CREATE on its own schema shadows pg_catalog with look-alike
-- functions, operators and tables, puts that schema first in its search_path, and calls every
-- SECURITY DEFINER function. Each look-alike records that it ran in hostile.ran and returns a
-- wrong value: the functions must give the real results and no look-alike may run.
CREATE ROLE pgmetrics_test_hostile LOGIN;
GRANT pgmetrics_writer, pgmetrics_reader TO pgmetrics_test_hostile;
CREATE SCHEMA hostile AUTHORIZATION pgmetrics_test_hostile;

SET ROLE pgmetrics_test_hostile;
CREATE TABLE hostile.ran (what text);
GRANT INSERT ON hostile.ran TO public;

CREATE FUNCTION hostile.note(what text) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$ INSERT INTO hostile.ran VALUES (what) $$;
GRANT EXECUTE ON FUNCTION hostile.note(text) TO public;

CREATE FUNCTION hostile.upper(text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('upper'); RETURN 'PUT'; END $$;
CREATE FUNCTION hostile.lower(text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('lower'); RETURN 'put'; END $$;
CREATE FUNCTION hostile.length(text) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('length'); RETURN 1; END $$;
CREATE FUNCTION hostile.left(text, integer) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('left'); RETURN 'x'; END $$;
CREATE FUNCTION hostile.quote_literal(text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('quote_literal'); RETURN 'x'; END $$;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('now'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('clock_timestamp'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.statement_timestamp() RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('statement_timestamp'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.date_trunc(text, timestamptz) RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('date_trunc'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.date_trunc(text, timestamptz, text) RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('date_trunc/3'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.isfinite(timestamptz) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('isfinite'); RETURN true; END $$;
CREATE FUNCTION hostile.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('jsonb_typeof'); RETURN 'array'; END $$;
CREATE FUNCTION hostile.jsonb_array_length(jsonb) RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('jsonb_array_length'); RETURN 0; END $$;
CREATE FUNCTION hostile.abs(double precision) RETURNS double precision LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('abs'); RETURN 0; END $$;
CREATE FUNCTION hostile.round(double precision) RETURNS double precision LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('round'); RETURN 0; END $$;
CREATE FUNCTION hostile.coalesce_(text, text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('coalesce'); RETURN 'x'; END $$;

-- Operators on the types the functions compare and add.
CREATE FUNCTION hostile.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('text ='); RETURN true; END $$;
CREATE OPERATOR hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.text_eq);
CREATE FUNCTION hostile.text_cat(text, text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('text ||'); RETURN 'x'; END $$;
CREATE OPERATOR hostile.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.text_cat);
CREATE FUNCTION hostile.int8_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('bigint ='); RETURN true; END $$;
CREATE OPERATOR hostile.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.int8_eq);
CREATE FUNCTION hostile.int8_add(bigint, bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('bigint +'); RETURN 1000000; END $$;
CREATE OPERATOR hostile.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.int8_add);
CREATE FUNCTION hostile.float8_add(double precision, double precision) RETURNS double precision LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('float8 +'); RETURN 1000000; END $$;
CREATE OPERATOR hostile.+ (LEFTARG = double precision, RIGHTARG = double precision, FUNCTION = hostile.float8_add);
CREATE FUNCTION hostile.tstz_eq(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('timestamptz ='); RETURN true; END $$;
CREATE OPERATOR hostile.= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.tstz_eq);
CREATE FUNCTION hostile.tstz_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('timestamptz <'); RETURN true; END $$;
CREATE OPERATOR hostile.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.tstz_lt);
CREATE FUNCTION hostile.tstz_ge(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('timestamptz >='); RETURN true; END $$;
CREATE OPERATOR hostile.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.tstz_ge);

-- Tables with the names of pgmetrics' tables, in the hostile schema and in pg_temp.
CREATE TABLE hostile.route_metrics (route text);
CREATE TABLE hostile.operation_metrics (operation text);
CREATE TABLE hostile.route_metrics_rollup (route text);
CREATE TABLE hostile.operation_metrics_rollup (operation text);
CREATE TABLE hostile.route_cells (route text);
CREATE TABLE hostile.locks (name text);
CREATE TABLE hostile.report_zones (zone text);
CREATE TABLE hostile.ingested_batches (batch_id uuid);
CREATE TABLE hostile.settings (name text, value integer);
CREATE TEMPORARY TABLE route_metrics (route text);
CREATE TEMPORARY TABLE settings (name text, value integer);
CREATE TEMPORARY TABLE ingested_batches (batch_id uuid);

CREATE TEMPORARY TABLE outcome (what text, value jsonb);

-- Every SECURITY DEFINER function, called with the hostile schema first. The statements use
-- no operator themselves: the look-alikes could only run inside pgmetrics.
SET search_path = hostile, pg_catalog, pg_temp;
SELECT pgmetrics.record_route_metric('/hostile', 'get', true, 2.5, '2026-03-01 10:30:00+00');
SELECT pgmetrics.record_route_metric('/hostile', 'get', false, 1.5, '2026-03-01 10:40:00+00');
SELECT pgmetrics.record_route_metric('/hostile-now', 'post', true, 1);
SELECT pgmetrics.record_operation_metric('hostile.op', false, 3, '2026-03-01 10:30:00+00');
INSERT INTO pg_temp.outcome SELECT 'ingest_batch', pg_catalog.to_jsonb(pgmetrics.ingest_batch(
    'b0000000-0000-4000-8000-000000000001',
    '[{"r": "/hostile-batch", "m": "delete", "h": "2026-03-01T10:00:00Z", "n": 3, "s": 2, "f": 1,
       "d": 6, "lo": 1, "hi": 3, "t": "2026-03-01T10:59:00Z", "zero_count": 0, "histogram": [1802243]}]'::pg_catalog.jsonb,
    '[{"o": "hostile.op", "h": "2026-03-01T10:00:00Z", "n": 2, "s": 2, "f": 0,
       "d": 4, "lo": 1, "hi": 3, "t": "2026-03-01T10:45:00Z", "zero_count": 0, "histogram": [1802242]}]'::pg_catalog.jsonb
));
INSERT INTO pg_temp.outcome SELECT 'ingest_batch again', pg_catalog.to_jsonb(pgmetrics.ingest_batch(
    'b0000000-0000-4000-8000-000000000001', NULL::pg_catalog.jsonb, NULL
));
-- The owner folds (writers do not), with the same search_path.
RESET ROLE;
SELECT pgmetrics.fold_events();
SET ROLE pgmetrics_test_hostile;
INSERT INTO pg_temp.outcome SELECT 'route_metrics_summary', pg_catalog.jsonb_agg(s)
FROM pgmetrics.route_metrics_summary('2026-03-01 00:00+00', '2026-03-02 00:00+00', 'all') AS s;
INSERT INTO pg_temp.outcome SELECT 'operation_metrics_summary', pg_catalog.jsonb_agg(s)
FROM pgmetrics.operation_metrics_summary('2026-03-01 00:00+00', '2026-03-02 00:00+00', 'day', tz => 'Europe/Berlin') AS s;
INSERT INTO pg_temp.outcome SELECT 'report_status', pgmetrics.report_status();
INSERT INTO pg_temp.outcome SELECT 'route_metrics_by_day', pg_catalog.jsonb_agg(v)
FROM pgmetrics.route_metrics_by_day AS v;
-- A control: in the caller's own statements the look-alikes do take over.
INSERT INTO pg_temp.outcome SELECT 'control', pg_catalog.to_jsonb(upper('a') || 'b');
RESET ROLE;
-- The owner, with the same search_path, runs the administrative functions.
SELECT pgmetrics.set_setting('batch_retention_days', 5);
SELECT pgmetrics.run_retention('2026-03-02 00:00+00');
RESET search_path;

SELECT set_eq('SELECT what FROM hostile.ran', $$VALUES ('upper'), ('text ||')$$,
    'no look-alike function or operator ran but the ones the control statement called itself');
SELECT is((SELECT value FROM outcome WHERE what = 'control'), '"x"'::jsonb,
    'the look-alikes answer the caller''s own statements');
SELECT is_empty('SELECT * FROM hostile.route_metrics UNION ALL SELECT * FROM pg_temp.route_metrics',
    'the look-alike route tables were not written');
SELECT is_empty('SELECT * FROM hostile.ingested_batches UNION ALL SELECT * FROM pg_temp.ingested_batches',
    'the look-alike batch tables were not written');
SELECT results_eq(
    $$SELECT route, method, period_start, total_requests, successful, failed, total_duration_ms,
             min_duration_ms, max_duration_ms
      FROM pgmetrics.route_metrics WHERE route IN ('/hostile', '/hostile-batch') ORDER BY route$$,
    $$VALUES ('/hostile', 'GET', '2026-03-01 10:00+00'::timestamptz, 2::bigint, 1::bigint, 1::bigint,
              4::float8, 1.5::float8, 2.5::float8),
             ('/hostile-batch', 'DELETE', '2026-03-01 10:00+00', 3, 2, 1, 6, 1, 3)$$,
    'record_route_metric and ingest_batch stored the real values'
);
SELECT is(
    (SELECT period_start FROM pgmetrics.route_metrics WHERE route = '/hostile-now'),
    date_trunc('hour', now(), 'UTC'),
    'the default at is the real now()'
);
SELECT results_eq(
    $$SELECT operation, total_executions, successful, failed, total_duration_ms FROM pgmetrics.operation_metrics$$,
    $$VALUES ('hostile.op', 3::bigint, 2::bigint, 1::bigint, 7::float8)$$,
    'record_operation_metric and ingest_batch stored the real operation values'
);
SELECT is((SELECT value FROM outcome WHERE what = 'ingest_batch'), 'true'::jsonb, 'ingest_batch applied the batch');
SELECT is((SELECT value FROM outcome WHERE what = 'ingest_batch again'), 'false'::jsonb,
    'ingest_batch recognised the id it had applied');
SELECT is(
    (SELECT jsonb_agg(jsonb_build_array(e ->> 'route', e ->> 'method', (e ->> 'total_requests')::bigint,
                                        (e ->> 'total_duration_ms')::float8) ORDER BY e ->> 'route')
     FROM outcome, jsonb_array_elements(value) AS e WHERE what = 'route_metrics_summary'),
    '[["/hostile", "GET", 2, 4], ["/hostile-batch", "DELETE", 3, 6]]'::jsonb,
    'route_metrics_summary gave the real figures'
);
SELECT is(
    (SELECT jsonb_agg(jsonb_build_array(e ->> 'operation', (e ->> 'bucket_start')::timestamptz,
                                        (e ->> 'total_executions')::bigint))
     FROM outcome, jsonb_array_elements(value) AS e WHERE what = 'operation_metrics_summary'),
    jsonb_build_array(jsonb_build_array('hostile.op', '2026-02-28 23:00+00'::timestamptz, 3)),
    'operation_metrics_summary gave the real figures in the real local day'
);
SELECT is(
    (SELECT value -> 'tiers' FROM outcome WHERE what = 'report_status'),
    -- The hour under way of /hostile (recorded at now()) is not rolled up yet: 2 keys x (day, week, month).
    '{"route_metrics": 3, "operation_metrics": 1, "route_metrics_rollup": 6, "operation_metrics_rollup": 3,
      "ingested_batches": 1, "route_cells": 0, "operation_cells": 0, "route_events": 0, "operation_events": 0}'::jsonb,
    'report_status counted the real tables'
);
SELECT is(
    (SELECT jsonb_agg((e ->> 'total_requests')::bigint ORDER BY e ->> 'route')
     FROM outcome, jsonb_array_elements(value) AS e WHERE what = 'route_metrics_by_day' AND e ->> 'route' LIKE '/hostile%'
       AND e ->> 'route' <> '/hostile-now'),
    '[2, 3]'::jsonb,
    'the daily view gave the real figures'
);
SELECT is((SELECT value FROM pgmetrics.settings WHERE name = 'batch_retention_days'), 5,
    'set_setting changed the real setting');
SELECT is((SELECT count(*) FROM pgmetrics.retention_runs), 1::bigint, 'run_retention recorded its real run');

SELECT * FROM finish();
ROLLBACK;
