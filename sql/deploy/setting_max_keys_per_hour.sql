-- Deploy pgmetrics:setting_max_keys_per_hour to pg
-- requires: table_settings

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Distinct keys are the one input no cell bound limits: 100,000 distinct routes of 1,024 characters in an hour
-- stored about 581 MB. The fold keeps this many keys per UTC hour and kind, the busiest first, and counts the
-- rest under '__overflow__', as the Python client does per process.
INSERT INTO pgmetrics.settings (name, value, min_value, max_value, description) VALUES (
    'max_keys_per_hour', 20000, 1, 10000000,
    'Most distinct keys (route and method; operation) stored per UTC hour and kind; the fold counts the events of '
    'further new keys under route ''__overflow__'' (their method kept) or operation ''__overflow__''.'
);

COMMENT ON TABLE pgmetrics.settings IS
'The knobs of pgmetrics, one row each, whole numbers: the retention ones in days, max_keys_per_hour in keys. Change '
'them with pgmetrics.set_setting(name, value).';

COMMIT;
