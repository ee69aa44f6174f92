-- Verify pgmetrics:function__fold_events on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / pg_catalog.count(*)::int
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._fold_events(boolean, timestamptz)'::regprocedure
    AND NOT prosecdef
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT
    1
    / (NOT pg_catalog.has_function_privilege('public', 'pgmetrics._fold_events(boolean, timestamptz)', 'EXECUTE'))::int;

ROLLBACK;
