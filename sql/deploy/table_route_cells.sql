-- Deploy pgmetrics:table_route_cells to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * Append-only and index-free, like the event tables: ingest_batch adds its cells here as COPY would, without
 * reading or merging a stored row, so a flush costs the same for new keys and for keys already stored. fold_events
 * moves them into the hourly tier and the rollups; until then the summaries add them on the fly.
 */
CREATE TABLE pgmetrics.route_cells (
    route text NOT NULL,
    method text NOT NULL,
    period_start timestamptz NOT NULL,
    total_requests bigint NOT NULL,
    successful bigint NOT NULL,
    total_duration_ms double precision NOT NULL,
    min_duration_ms double precision NOT NULL,
    max_duration_ms double precision NOT NULL,
    last_request_at timestamptz NOT NULL,
    zero_count bigint NOT NULL,
    duration_histogram int[] NOT NULL
);

-- Every fold deletes what is staged: vacuumed often, the table stays as small as what it holds, and so do the
-- summaries' scans of it.
ALTER TABLE pgmetrics.route_cells SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
ALTER TABLE pgmetrics.route_cells ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.route_cells FROM public;

COMMENT ON TABLE pgmetrics.route_cells IS
'Pending route cells: the cells of the batches ingest_batch applied, not yet folded into the hourly tier and the '
'rollups by fold_events.';

COMMIT;
