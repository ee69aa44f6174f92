-- Verify pgmetrics:partition_hourly_metrics on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Both tiers are range-partitioned on period_start, with a default partition, row security and no privilege for
-- the roles; their views are readable again.
SELECT 1 / count(*)
FROM pg_catalog.pg_partitioned_table AS p
INNER JOIN pg_catalog.pg_class AS c ON p.partrelid = c.oid
WHERE
    p.partrelid = 'pgmetrics.route_metrics'::regclass
    AND p.partstrat = 'r'
    AND p.partattrs = '3'
    AND p.partdefid = 'pgmetrics.route_metrics_default'::regclass
    AND c.relrowsecurity;
SELECT 1 / count(*)
FROM pg_catalog.pg_partitioned_table AS p
INNER JOIN pg_catalog.pg_class AS c ON p.partrelid = c.oid
WHERE
    p.partrelid = 'pgmetrics.operation_metrics'::regclass
    AND p.partstrat = 'r'
    AND p.partattrs = '2'
    AND p.partdefid = 'pgmetrics.operation_metrics_default'::regclass
    AND c.relrowsecurity;
SELECT 1 / (NOT pg_catalog.has_table_privilege('pgmetrics_writer', 'pgmetrics.route_metrics', 'SELECT'))::int;
SELECT 1 / (NOT pg_catalog.has_table_privilege('pgmetrics_reader', 'pgmetrics.operation_metrics', 'SELECT'))::int;
SELECT 1 / pg_catalog.has_table_privilege('pgmetrics_reader', 'pgmetrics.route_metrics_by_hour', 'SELECT')::int;
SELECT 1 / pg_catalog.has_table_privilege('pgmetrics_reader', 'pgmetrics.operation_metrics_by_hour', 'SELECT')::int;

ROLLBACK;
