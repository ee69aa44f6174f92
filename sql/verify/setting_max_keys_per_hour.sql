-- Verify pgmetrics:setting_max_keys_per_hour on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

SELECT 1 / pg_catalog.count(*)::int
FROM pgmetrics.settings
WHERE name = 'max_keys_per_hour' AND min_value = 1 AND max_value = 10000000;

ROLLBACK;
