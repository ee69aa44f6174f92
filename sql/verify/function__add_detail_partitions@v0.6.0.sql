-- Verify pgmetrics:function__add_detail_partitions on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / count(*)
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._add_detail_partitions(timestamptz[])'::regprocedure
    AND NOT prosecdef
    AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (
        NOT pg_catalog.has_function_privilege('public', 'pgmetrics._add_detail_partitions(timestamptz[])', 'EXECUTE')
    )::int;

ROLLBACK;
