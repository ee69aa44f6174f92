-- Deploy pgmetrics:function__check_measurement to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics._check_measurement(success boolean, duration_ms double precision, at timestamptz)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF _check_measurement.success IS NULL THEN
        RAISE EXCEPTION 'success must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF _check_measurement.duration_ms IS NULL THEN
        RAISE EXCEPTION 'duration_ms must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- NaN compares greater than every number in PostgreSQL, so it needs its own test.
    IF _check_measurement.duration_ms = 'NaN'::float8
        OR _check_measurement.duration_ms = 'Infinity'::float8
        OR _check_measurement.duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must be a finite number >= 0, got %', _check_measurement.duration_ms
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_measurement.at IS NULL THEN
        RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(_check_measurement.at) THEN
        RAISE EXCEPTION 'at must be a finite timestamp, got %', _check_measurement.at
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

COMMENT ON FUNCTION pgmetrics._check_measurement(boolean, double precision, timestamptz) IS
'Checks one measurement: success and at not NULL (22004), duration_ms finite and >= 0 and at finite (22023). '
'The message names the argument.';

REVOKE ALL ON FUNCTION pgmetrics._check_measurement(boolean, double precision, timestamptz) FROM public;

COMMIT;
