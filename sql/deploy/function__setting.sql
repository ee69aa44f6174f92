-- Deploy pgmetrics:function__setting to pg
-- requires: table_settings

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._setting(name text)
RETURNS integer
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.value FROM pgmetrics.settings AS s WHERE s.name = _setting.name
$$;

COMMENT ON FUNCTION pgmetrics._setting(text) IS
'The value of one row of pgmetrics.settings, or NULL for an unknown name.';

REVOKE ALL ON FUNCTION pgmetrics._setting(text) FROM public;

COMMIT;
