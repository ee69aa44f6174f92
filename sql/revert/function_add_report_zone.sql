-- Revert pgmetrics:function_add_report_zone from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.add_report_zone(text);

CREATE FUNCTION pgmetrics.add_report_zone(zone text)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_zone text;
BEGIN
    IF add_report_zone.zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT n.name INTO v_zone
    FROM pg_catalog.pg_timezone_names AS n
    WHERE pg_catalog.lower(n.name) = pg_catalog.lower(add_report_zone.zone)
    ORDER BY n.name = add_report_zone.zone DESC, n.name
    LIMIT 1;
    IF v_zone IS NULL THEN
        RAISE EXCEPTION 'zone must be a time zone name such as Europe/Berlin, got %',
            pg_catalog.quote_literal(pg_catalog.left(add_report_zone.zone, 60))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.upper(v_zone) = 'UTC' THEN
        RAISE EXCEPTION 'zone must not be UTC: UTC days are always rolled up' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Under the fold's lock, after a fold: the backfill sees every hour, and no fold adds to the zone meanwhile.
    PERFORM pgmetrics.fold_events(TRUE);
    INSERT INTO pgmetrics.report_zones (zone) VALUES (v_zone)
    ON CONFLICT ON CONSTRAINT report_zones_pkey DO NOTHING;
    IF NOT FOUND THEN
        RETURN v_zone;
    END IF;
    -- A one-off backfill from the hours the rollups hold: their local days, merged once. Later hours come with the
    -- fold that rolls them up.
    INSERT INTO pgmetrics.route_metrics_rollup (
        route, method, grain, zone, period_start, total_requests, successful, failed, total_duration_ms,
        min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram, duration_quantiles
    )
    SELECT
        a.route, a.method, 'day', v_zone, a.period_start, a.total_requests, a.successful, a.failed,
        a.total_duration_ms, a.min_duration_ms, a.max_duration_ms, a.last_request_at, a.zero_count,
        a.duration_histogram,
        pgmetrics._histogram_quantiles(
            a.duration_histogram, a.zero_count, '{0.5,0.95,0.99}', a.min_duration_ms, a.max_duration_ms
        )
    FROM (
        SELECT
            h.route, h.method, pg_catalog.date_trunc('day', h.period_start, v_zone) AS period_start,
            pg_catalog.sum(h.total_requests)::bigint AS total_requests,
            pg_catalog.sum(h.successful)::bigint AS successful, pg_catalog.sum(h.failed)::bigint AS failed,
            pg_catalog.sum(h.total_duration_ms) AS total_duration_ms,
            pg_catalog.min(h.min_duration_ms) AS min_duration_ms, pg_catalog.max(h.max_duration_ms) AS max_duration_ms,
            pg_catalog.max(h.last_request_at) AS last_request_at, pg_catalog.sum(h.zero_count)::bigint AS zero_count,
            pgmetrics._histogram_merge_agg(h.duration_histogram) AS duration_histogram
        FROM pgmetrics.route_metrics AS h
        WHERE h.period_start < (SELECT w.rolled_until FROM pgmetrics.rollup_watermark AS w)
        GROUP BY 1, 2, 3
    ) AS a;
    INSERT INTO pgmetrics.operation_metrics_rollup (
        operation, grain, zone, period_start, total_executions, successful, failed, total_duration_ms,
        min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram, duration_quantiles
    )
    SELECT
        a.operation, 'day', v_zone, a.period_start, a.total_executions, a.successful, a.failed,
        a.total_duration_ms, a.min_duration_ms, a.max_duration_ms, a.last_execution_at, a.zero_count,
        a.duration_histogram,
        pgmetrics._histogram_quantiles(
            a.duration_histogram, a.zero_count, '{0.5,0.95,0.99}', a.min_duration_ms, a.max_duration_ms
        )
    FROM (
        SELECT
            h.operation, pg_catalog.date_trunc('day', h.period_start, v_zone) AS period_start,
            pg_catalog.sum(h.total_executions)::bigint AS total_executions,
            pg_catalog.sum(h.successful)::bigint AS successful, pg_catalog.sum(h.failed)::bigint AS failed,
            pg_catalog.sum(h.total_duration_ms) AS total_duration_ms,
            pg_catalog.min(h.min_duration_ms) AS min_duration_ms, pg_catalog.max(h.max_duration_ms) AS max_duration_ms,
            pg_catalog.max(h.last_execution_at) AS last_execution_at,
            pg_catalog.sum(h.zero_count)::bigint AS zero_count,
            pgmetrics._histogram_merge_agg(h.duration_histogram) AS duration_histogram
        FROM pgmetrics.operation_metrics AS h
        WHERE h.period_start < (SELECT w.rolled_until FROM pgmetrics.rollup_watermark AS w)
        GROUP BY 1, 2
    ) AS a;
    RETURN v_zone;
END
$$;

COMMENT ON FUNCTION pgmetrics.add_report_zone(text) IS
'Adds a time zone whose local days fold_events rolls up from now on, so that summaries by day in it read one stored '
'row per key and day, and backfills its local days from the hourly tier kept (days older than the hourly detail '
'stay in UTC days). Returns the zone''s canonical name; adding it twice changes nothing. Raises 22004 for a NULL '
'zone and 22023 for an unknown zone or UTC. For the schema owner.';

REVOKE ALL ON FUNCTION pgmetrics.add_report_zone(text) FROM public;

COMMIT;
