-- Deploy pgmetrics:function_record_route_metric to pg
-- requires: table_route_metrics
-- requires: function__check_name
-- requires: function__check_method
-- requires: function__check_measurement

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

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
AS $$
DECLARE
    v_route text := pgmetrics._check_name('route', record_route_metric.route);
    v_method text := pgmetrics._check_method(record_route_metric.method);
    v_period_start timestamptz;
BEGIN
    /* Every argument is checked before the upsert, so a rejected call writes nothing. */
    PERFORM pgmetrics._check_measurement(
        record_route_metric.success, record_route_metric.duration_ms, record_route_metric.at
    );
    v_period_start := pg_catalog.date_trunc('hour', record_route_metric.at, 'UTC');

    INSERT INTO pgmetrics.route_metrics AS m (
        route, method, period_start, period_end, total_requests, successful, failed,
        total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
    ) VALUES (
        v_route, v_method, v_period_start, v_period_start + INTERVAL '1 hour', 1,
        record_route_metric.success::int, (NOT record_route_metric.success)::int,
        record_route_metric.duration_ms, record_route_metric.duration_ms, record_route_metric.duration_ms,
        record_route_metric.at
    )
    -- The constraint is named because a column list would clash with the parameter names.
    ON CONFLICT ON CONSTRAINT route_metrics_pkey DO UPDATE SET
        total_requests = m.total_requests + 1,
        successful = m.successful + excluded.successful,
        failed = m.failed + excluded.failed,
        total_duration_ms = m.total_duration_ms + excluded.total_duration_ms,
        min_duration_ms = LEAST(m.min_duration_ms, excluded.min_duration_ms),
        max_duration_ms = GREATEST(m.max_duration_ms, excluded.max_duration_ms),
        last_request_at = GREATEST(m.last_request_at, excluded.last_request_at),
        updated_at = pg_catalog.now();
END
$$;

COMMENT ON FUNCTION pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz) IS
'Counts one request of route (a template such as /users/{id}, 1 to 1024 characters) with an HTTP method (any case, '
'stored in upper case) in the UTC hour of at (default now()). success false counts a failure; duration_ms must be '
'finite and >= 0. Raises 22004 for a NULL argument and 22023 for any other bad argument, naming it; a rejected call '
'writes nothing.';

REVOKE ALL ON FUNCTION pgmetrics.record_route_metric(text, text, boolean, double precision, timestamptz) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.record_route_metric(
    text, text, boolean, double precision, timestamptz
) TO pgmetrics_writer;

COMMIT;
