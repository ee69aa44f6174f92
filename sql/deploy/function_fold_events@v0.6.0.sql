-- Deploy pgmetrics:function_fold_events to pg
-- requires: function__fold_events
-- requires: table_rollup_watermark

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.fold_events(boolean);

CREATE FUNCTION pgmetrics.fold_events(wait boolean DEFAULT TRUE)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The hours before the current UTC hour are over: they go into the rollups.
    RETURN pgmetrics._fold_events(fold_events.wait, pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC'));
END
$$;

COMMENT ON FUNCTION pgmetrics.fold_events(boolean) IS
'Moves every pending cell (route_cells, operation_cells, written by ingest_batch) and event (route_events, '
'operation_events, written by the recording functions) into the hourly tier, with their histograms merged and '
'p50/p95/p99 stored, in one transaction. Hours that are over are rolled up too (UTC day, ISO week, calendar month, '
'local day of each report zone): the hour under way goes into the rollups at the first fold after it ends, and until '
'then the summaries and views add it from the hourly tier. Returns jsonb {"route_cells_folded": n, '
'"route_events_folded": n, "operation_cells_folded": n, "operation_events_folded": n}. With wait (the default) it '
'waits for a fold running concurrently and then folds what is left; without, it returns {"skipped": reason} at once. '
'Idempotent; no event is counted twice. Run by the pg_cron job of schedule_fold, the Python client after its '
'flushes, run_retention and add_report_zone; for pgmetrics_writer and the schema owner. Hours of days without a '
'partition land in the default partitions of the hourly tier; then the days among them within retention_days before '
'now and 3 days after get their daily partitions, their rows moved into them. Raises 22004 for a NULL wait.';

REVOKE ALL ON FUNCTION pgmetrics.fold_events(boolean) FROM public;
GRANT EXECUTE ON FUNCTION pgmetrics.fold_events(boolean) TO pgmetrics_writer;

COMMIT;
