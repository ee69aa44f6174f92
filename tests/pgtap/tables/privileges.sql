BEGIN;
SELECT plan(14);

SELECT table_privs_are('pgmetrics', 'route_metrics', 'pgmetrics_writer', ARRAY[]::text[],
    'the writer has no privilege on route_metrics');
SELECT table_privs_are('pgmetrics', 'route_metrics', 'pgmetrics_reader', ARRAY[]::text[],
    'the reader has no privilege on route_metrics');
SELECT table_privs_are('pgmetrics', 'route_metrics', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on route_metrics');
SELECT table_privs_are('pgmetrics', 'operation_metrics', 'pgmetrics_writer', ARRAY[]::text[],
    'the writer has no privilege on operation_metrics');
SELECT table_privs_are('pgmetrics', 'operation_metrics', 'pgmetrics_reader', ARRAY[]::text[],
    'the reader has no privilege on operation_metrics');
SELECT table_privs_are('pgmetrics', 'operation_metrics', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on operation_metrics');
SELECT table_privs_are('pgmetrics', 'route_events', 'pgmetrics_writer', ARRAY[]::text[],
    'the writer has no privilege on route_events');
SELECT table_privs_are('pgmetrics', 'route_events', 'pgmetrics_reader', ARRAY[]::text[],
    'the reader has no privilege on route_events');
SELECT table_privs_are('pgmetrics', 'route_events', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on route_events');
SELECT table_privs_are('pgmetrics', 'operation_events', 'pgmetrics_writer', ARRAY[]::text[],
    'the writer has no privilege on operation_events');
SELECT table_privs_are('pgmetrics', 'operation_events', 'pgmetrics_reader', ARRAY[]::text[],
    'the reader has no privilege on operation_events');
SELECT table_privs_are('pgmetrics', 'operation_events', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on operation_events');
SELECT schema_privs_are('pgmetrics', 'pgmetrics_writer', ARRAY['USAGE'], 'the writer may use the schema');
SELECT schema_privs_are('pgmetrics', 'pgmetrics_reader', ARRAY['USAGE'], 'the reader may use the schema');

SELECT * FROM finish();
ROLLBACK;
