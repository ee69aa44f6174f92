-- Verify pgmetrics:function_ingest_batch on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.ingest_batch(uuid, jsonb, jsonb)'::regprocedure
    AND prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / pg_catalog.has_function_privilege(
        'pgmetrics_writer', 'pgmetrics.ingest_batch(uuid, jsonb, jsonb)', 'EXECUTE'
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics.ingest_batch(uuid, jsonb, jsonb)', 'EXECUTE'
        )
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'pgmetrics_reader', 'pgmetrics.ingest_batch(uuid, jsonb, jsonb)', 'EXECUTE'
        )
    )::int;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics.ingest_batch(uuid, pgmetrics.route_cell [], pgmetrics.operation_cell [])'::regprocedure
    AND prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / pg_catalog.has_function_privilege(
        'pgmetrics_writer',
        'pgmetrics.ingest_batch(uuid, pgmetrics.route_cell [], pgmetrics.operation_cell [])',
        'EXECUTE'
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics.ingest_batch(uuid, pgmetrics.route_cell [], pgmetrics.operation_cell [])', 'EXECUTE'
        )
    )::int;
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'pgmetrics_reader',
            'pgmetrics.ingest_batch(uuid, pgmetrics.route_cell [], pgmetrics.operation_cell [])',
            'EXECUTE'
        )
    )::int;

ROLLBACK;
