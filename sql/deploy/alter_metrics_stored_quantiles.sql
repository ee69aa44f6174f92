-- Deploy pgmetrics:alter_metrics_stored_quantiles to pg
-- requires: table_route_metrics
-- requires: table_operation_metrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- A generated column walked each row's histogram in PL/pgSQL on every write; the fold computes the quantiles of all
-- the rows it writes in one set-based pass instead. The values stored so far stay.
ALTER TABLE pgmetrics.route_metrics ALTER COLUMN duration_quantiles DROP EXPRESSION;
ALTER TABLE pgmetrics.operation_metrics ALTER COLUMN duration_quantiles DROP EXPRESSION;

COMMENT ON COLUMN pgmetrics.route_metrics.duration_quantiles IS
'p50, p95 and p99 of the row''s histogram, written by fold_events with the histogram.';
COMMENT ON COLUMN pgmetrics.operation_metrics.duration_quantiles IS
'p50, p95 and p99 of the row''s histogram, written by fold_events with the histogram.';

COMMIT;
