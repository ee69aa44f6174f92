-- Verify pgmetrics:function__check_cell on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / pg_catalog.count(*)::int
FROM pg_catalog.pg_proc
WHERE
    oid = 'pgmetrics._check_cell(timestamptz, bigint, bigint, double precision, double precision, double precision, '
    'timestamptz, bigint, int [], text, text)'::regprocedure
    AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp'];

ROLLBACK;
