-- Deploy pgmetrics:table_settings to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Every knob is a whole number of days, so one integer column types them all; the bounds
-- live next to the value so that set_setting and the table's own check agree.
CREATE TABLE pgmetrics.settings (
    name text PRIMARY KEY,
    value integer NOT NULL,
    min_value integer NOT NULL,
    max_value integer NOT NULL,
    description text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT settings_value_check CHECK (value BETWEEN min_value AND max_value)
);

INSERT INTO pgmetrics.settings (name, value, min_value, max_value, description) VALUES
(
    'retention_days', 90, 1, 36500,
    'Days of hourly detail kept; older whole UTC days remain only in the daily tier.'
),
(
    'summary_retention_days', 730, 1, 36500,
    'Days of daily summaries kept; never fewer than retention_days.'
),
(
    'batch_retention_days', 7, 1, 3650,
    'Days an ingest_batch id is remembered; a batch re-sent later than this would count twice.'
);

ALTER TABLE pgmetrics.settings ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.settings FROM public;

COMMENT ON TABLE pgmetrics.settings IS
'The knobs of pgmetrics, one row each, in days. Change them with pgmetrics.set_setting(name, value).';

COMMIT;
