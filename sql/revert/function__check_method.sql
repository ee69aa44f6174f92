-- Revert pgmetrics:function__check_method from pg: back to the standard methods only
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._check_method(text);

CREATE FUNCTION pgmetrics._check_method(method text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_method text := pg_catalog.upper(_check_method.method);
BEGIN
    IF v_method IS NULL THEN
        RAISE EXCEPTION 'method must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF v_method NOT IN ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT') THEN
        RAISE EXCEPTION 'method must be one of GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT, got %',
            pg_catalog.quote_literal(pg_catalog.left(_check_method.method, 40))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_method;
END
$$;

COMMENT ON FUNCTION pgmetrics._check_method(text) IS
'Returns method in upper case when it is a standard HTTP method (GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT, '
'any case). Raises 22004 for NULL and 22023 for anything else.';

REVOKE ALL ON FUNCTION pgmetrics._check_method(text) FROM public;

COMMIT;
