-- Revert pgmetrics:function__check_cell from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._check_cell(
    timestamptz, bigint, bigint, double precision, double precision, double precision, timestamptz, bigint, int[],
    text, text
);

COMMIT;
