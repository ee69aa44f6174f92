-- Deploy pgmetrics:function__check_summary_range to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._check_summary_range(timestamptz, timestamptz, text, text);

CREATE FUNCTION pgmetrics._check_summary_range(start timestamptz, "end" timestamptz, bucket text, tz text)
RETURNS void
LANGUAGE plpgsql
STABLE
-- Not PARALLEL SAFE: the time zone is tried inside an exception block, a subtransaction, which parallel workers
-- cannot start.
PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF _check_summary_range.start IS NULL THEN
        RAISE EXCEPTION 'start must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF _check_summary_range."end" IS NULL THEN
        RAISE EXCEPTION 'end must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(_check_summary_range.start) THEN
        RAISE EXCEPTION 'start must be a finite timestamp, got %', _check_summary_range.start
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_catalog.isfinite(_check_summary_range."end") THEN
        RAISE EXCEPTION 'end must be a finite timestamp, got %', _check_summary_range."end"
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- start = end is an empty range, not an error: callers step through ranges that may shrink to nothing.
    IF _check_summary_range.start > _check_summary_range."end" THEN
        RAISE EXCEPTION 'start must not be after end, got start % and end %',
            _check_summary_range.start, _check_summary_range."end"
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_summary_range.bucket IS NULL THEN
        RAISE EXCEPTION 'bucket must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF _check_summary_range.bucket NOT IN ('hour', 'day', 'week', 'month', 'all') THEN
        RAISE EXCEPTION 'bucket must be one of hour day week month all, got %',
            pg_catalog.quote_literal(pg_catalog.left(_check_summary_range.bucket, 40))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _check_summary_range.tz IS NULL THEN
        RAISE EXCEPTION 'tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The zone is tried the way the summaries use it, so whatever passes here works there.
    BEGIN
        PERFORM pg_catalog.date_trunc('day', _check_summary_range.start, _check_summary_range.tz);
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'tz must be a time zone name such as UTC or Europe/Berlin, got %',
            pg_catalog.quote_literal(pg_catalog.left(_check_summary_range.tz, 60))
            USING ERRCODE = 'invalid_parameter_value';
    END;
END
$$;

COMMENT ON FUNCTION pgmetrics._check_summary_range(timestamptz, timestamptz, text, text) IS
'Checks the arguments shared by the summary functions: start and end not NULL (22004), finite and start not after end '
'(22023); bucket not NULL (22004) and one of hour day week month all (22023); tz not NULL (22004) and a time zone '
'PostgreSQL knows (22023). The message names the argument.';

REVOKE ALL ON FUNCTION pgmetrics._check_summary_range(timestamptz, timestamptz, text, text) FROM public;


COMMIT;
