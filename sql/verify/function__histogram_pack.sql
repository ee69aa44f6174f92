-- Verify pgmetrics:function__histogram_pack on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._histogram_pack(int[], bigint[])'::regprocedure
    AND provolatile = 'i'
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege(
            'public', 'pgmetrics._histogram_pack(int[], bigint[])', 'EXECUTE'
        )
    )::int;
SELECT
    1
    / (pgmetrics._histogram_pack('{0,1}', '{40000,1}') = '{7233,32767,32769}')::int;

ROLLBACK;
