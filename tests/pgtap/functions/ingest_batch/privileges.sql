BEGIN;
SELECT plan(9);

SELECT is_definer('pgmetrics', 'ingest_batch', ARRAY['uuid', 'jsonb', 'jsonb'], 'ingest_batch is SECURITY DEFINER');
SELECT function_privs_are('pgmetrics', 'ingest_batch', ARRAY['uuid', 'jsonb', 'jsonb'],
    'pgmetrics_writer', ARRAY['EXECUTE'], 'the writer may ingest batches');
SELECT function_privs_are('pgmetrics', 'ingest_batch', ARRAY['uuid', 'jsonb', 'jsonb'],
    'pgmetrics_reader', ARRAY[]::text[], 'the reader may not ingest batches');
SELECT function_privs_are('pgmetrics', 'ingest_batch', ARRAY['uuid', 'jsonb', 'jsonb'],
    'public', ARRAY[]::text[], 'PUBLIC may not ingest batches');
SELECT function_privs_are('pgmetrics', '_check_batch_cell', ARRAY['jsonb'],
    'public', ARRAY[]::text[], '_check_batch_cell is private');
SELECT table_privs_are('pgmetrics', 'ingested_batches', 'pgmetrics_writer', ARRAY[]::text[],
    'the writer has no privilege on ingested_batches');
SELECT table_privs_are('pgmetrics', 'ingested_batches', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on ingested_batches');

CREATE ROLE pgmetrics_test_flusher LOGIN;
GRANT pgmetrics_writer TO pgmetrics_test_flusher;
SET ROLE pgmetrics_test_flusher;
SELECT lives_ok(
    $$SELECT pgmetrics.ingest_batch('c0000000-0000-4000-8000-000000000001',
        '[{"r": "/a", "m": "GET", "h": "2026-03-01T10:00:00Z", "n": 1, "s": 1, "f": 0, "d": 1, "lo": 1, "hi": 1,
           "t": "2026-03-01T10:00:00Z", "zero_count": 0, "histogram": [1]}]'::jsonb, NULL)$$,
    'a member of pgmetrics_writer ingests a batch'
);
SELECT throws_ok($$SELECT count(*) FROM pgmetrics.ingested_batches$$, '42501', NULL,
    'a member of pgmetrics_writer cannot read the batch table');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
