-- Revert pgmetrics:setting_max_keys_per_hour from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DELETE FROM pgmetrics.settings
WHERE name = 'max_keys_per_hour';

COMMENT ON TABLE pgmetrics.settings IS
'The knobs of pgmetrics, one row each, in days. Change them with pgmetrics.set_setting(name, value).';

COMMIT;
