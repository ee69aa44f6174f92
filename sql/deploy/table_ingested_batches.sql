-- Deploy pgmetrics:table_ingested_batches to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- One row per batch applied by pgmetrics.ingest_batch: a client that does not know whether its
-- commit went through sends the batch again under the same id, and this row makes the resend a no-op.
CREATE TABLE pgmetrics.ingested_batches (
    batch_id uuid NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    route_cells integer NOT NULL,
    operation_cells integer NOT NULL,
    CONSTRAINT ingested_batches_pkey PRIMARY KEY (batch_id),
    CONSTRAINT ingested_batches_cells_check CHECK (route_cells >= 0 AND operation_cells >= 0)
);

-- Pruning old ids (a client retries for minutes, not days) scans by age.
CREATE INDEX ingested_batches_ingested_at_idx ON pgmetrics.ingested_batches (ingested_at);

ALTER TABLE pgmetrics.ingested_batches ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.ingested_batches FROM public;

COMMENT ON TABLE pgmetrics.ingested_batches IS
'Ids of the batches applied by pgmetrics.ingest_batch, with the number of route and operation cells each held. '
'A batch id found here is acknowledged again without being applied twice.';

COMMIT;
