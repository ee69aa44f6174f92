-- Deploy pgmetrics:table_report_zones to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- The time zones whose local days are pre-rolled (UTC days always are). add_report_zone backfills a new one.
CREATE TABLE pgmetrics.report_zones (
    zone text PRIMARY KEY,
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT report_zones_zone_check CHECK (zone <> 'UTC')
);

ALTER TABLE pgmetrics.report_zones ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.report_zones FROM public;

COMMENT ON TABLE pgmetrics.report_zones IS
'Time zones whose local days fold_events rolls up, so that summaries by day in them read one stored row per key and '
'day. Changed with add_report_zone and remove_report_zone.';

COMMIT;
