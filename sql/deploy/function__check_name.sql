-- Deploy pgmetrics:function__check_name to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._check_name(argument text, value text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF _check_name.value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', _check_name.argument
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.length(_check_name.value) NOT BETWEEN 1 AND 1024 THEN
        RAISE EXCEPTION '% must be 1 to 1024 characters long, got %',
            _check_name.argument, pg_catalog.length(_check_name.value)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN _check_name.value;
END
$$;

COMMENT ON FUNCTION pgmetrics._check_name(text, text) IS
'Returns value when it is a valid metric key (1 to 1024 characters). Raises 22004 for NULL and 22023 otherwise, '
'naming argument in the message.';

REVOKE ALL ON FUNCTION pgmetrics._check_name(text, text) FROM public;

COMMIT;
