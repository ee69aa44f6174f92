-- Deploy pgmetrics:function_remove_report_zone to pg
-- requires: table_report_zones
-- requires: table_route_metrics_rollup
-- requires: table_operation_metrics_rollup

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE FUNCTION pgmetrics.remove_report_zone(zone text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_zone text;
BEGIN
    IF remove_report_zone.zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Under the fold's lock, so that no fold adds to the zone's days while they go.
    PERFORM 1 FROM pgmetrics.locks AS l WHERE l.name = 'fold' FOR UPDATE;
    DELETE FROM pgmetrics.report_zones AS z
    WHERE pg_catalog.lower(z.zone) = pg_catalog.lower(remove_report_zone.zone)
    RETURNING z.zone INTO v_zone;
    IF v_zone IS NULL THEN
        RETURN FALSE;
    END IF;
    DELETE FROM pgmetrics.route_metrics_rollup AS r WHERE r.grain = 'day' AND r.zone = v_zone;
    DELETE FROM pgmetrics.operation_metrics_rollup AS r WHERE r.grain = 'day' AND r.zone = v_zone;
    RETURN TRUE;
END
$$;

COMMENT ON FUNCTION pgmetrics.remove_report_zone(text) IS
'Removes a report zone and its local-day rollups; summaries by day in it then merge hours. Returns whether the zone '
'was there. Raises 22004 for a NULL zone. For the schema owner.';

REVOKE ALL ON FUNCTION pgmetrics.remove_report_zone(text) FROM public;

COMMIT;
