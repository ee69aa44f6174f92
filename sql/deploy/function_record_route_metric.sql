-- Deploy pgmetrics:function_record_route_metric to pg
-- requires: table_route_events
-- requires: function__check_name
-- requires: function__check_method

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz);

CREATE FUNCTION pgmetrics.record_route_metric(
    route text,
    method text,
    success boolean,
    duration_ms double precision,
    at timestamptz DEFAULT pg_catalog.now()
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- TimeZone, DateStyle and IntervalStyle are not pinned here, unlike elsewhere: this runs once per request, each
-- pinned setting is saved and restored on every call, and nothing it stores reads them (the hour is truncated
-- in UTC, at is an instant); tests/test_hostile_session.py holds it to that.
AS $$
DECLARE
    v_method text := pg_catalog.upper(record_route_metric.method);
BEGIN
    /*
     * The checks of _check_name and _check_method, and those of success, duration_ms and at, written out here with
     * the messages and SQLSTATEs the pgTAP tests hold them to: each nested call of a function with a pinned
     * search_path costs a configuration change, and this function is called once per request. Every argument is
     * checked before the insert, so a rejected call writes nothing.
     */
    IF record_route_metric.route IS NULL THEN
        RAISE EXCEPTION 'route must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.length(record_route_metric.route) NOT BETWEEN 1 AND 1024 THEN
        RAISE EXCEPTION 'route must be 1 to 1024 characters long, got %', pg_catalog.length(record_route_metric.route)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_method IS NULL THEN
        RAISE EXCEPTION 'method must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF v_method NOT IN ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', '_OTHER') THEN
        RAISE EXCEPTION 'method must be one of GET HEAD POST PUT PATCH DELETE OPTIONS TRACE CONNECT _OTHER, got %',
            pg_catalog.quote_literal(pg_catalog.left(record_route_metric.method, 40))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF record_route_metric.success IS NULL THEN
        RAISE EXCEPTION 'success must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF record_route_metric.duration_ms IS NULL THEN
        RAISE EXCEPTION 'duration_ms must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- NaN compares greater than every number in PostgreSQL, so it needs its own test.
    IF record_route_metric.duration_ms = 'NaN'::float8
        OR record_route_metric.duration_ms = 'Infinity'::float8
        OR record_route_metric.duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must be a finite number >= 0, got %', record_route_metric.duration_ms
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    /*
     * 1e15 ms is about 31,700 years, above any real duration; 1e15 times 2^63 (more events than a bigint counts)
     * is about 9.2e33, far below double precision's 1.8e308, so no sum of accepted durations, in a cell, an hour, a
     * rollup or a summary over every key, can overflow. pgmetrics.checks.MAX_DURATION_MS is the same bound.
     */
    IF record_route_metric.duration_ms > 1e15 THEN
        RAISE EXCEPTION 'duration_ms must be at most 1e15 (about 31,700 years), got %', record_route_metric.duration_ms
            USING ERRCODE = 'numeric_value_out_of_range';
    END IF;
    IF record_route_metric.at IS NULL THEN
        RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(record_route_metric.at) THEN
        RAISE EXCEPTION 'at must be a finite timestamp, got %', record_route_metric.at
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Beyond these years a bucket's end (a day later) leaves timestamptz's range, and the event could
    -- never be folded.
    IF record_route_metric.at < '0001-01-01 00:00:00+00' OR record_route_metric.at >= '10000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION 'at must be between 0001-01-01 and 9999-12-31 UTC, got %', record_route_metric.at
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    /*
     * One row is appended to route_events and nothing is updated, so concurrent calls on one key never wait for
     * each other; fold_events adds the row to its hourly bucket later and the summaries count it meanwhile.
     */
    INSERT INTO pgmetrics.route_events (route, method, period_start, success, duration_ms, at)
    VALUES (
        record_route_metric.route, v_method, pg_catalog.date_trunc('hour', record_route_metric.at, 'UTC'),
        record_route_metric.success,
        record_route_metric.duration_ms, record_route_metric.at
    );
END
$$;

COMMENT ON FUNCTION pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz) IS
'Counts one request of route (a template such as /users/{id}, 1 to 1024 characters) with an HTTP method (any case, '
'stored in upper case) in the UTC hour of at (default now()). success false counts a failure; duration_ms must be '
'finite, >= 0 and at most 1e15. Appends one row to route_events (no row lock, so concurrent calls on one key do not '
'wait); the summary functions count it at once, fold_events adds it to the hourly tier. Raises 22004 for a NULL '
'argument, 22003 for a duration_ms above 1e15 and 22023 for any other bad argument, naming it; a rejected call '
'writes nothing.';

REVOKE ALL ON FUNCTION pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.record_route_metric(
    text, text, boolean, double precision, timestamptz
) TO pgmetrics_writer;

COMMIT;
