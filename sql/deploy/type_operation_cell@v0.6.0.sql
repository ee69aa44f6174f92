-- Deploy pgmetrics:type_operation_cell to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- One cell of ingest_batch: what one writer saw of one key in one UTC hour. A typed array of these crosses the wire
-- in binary, so the server reads each histogram without parsing text.
CREATE TYPE pgmetrics.operation_cell AS (
    operation text,
    period_start timestamptz,
    total_executions bigint,
    successful bigint,
    total_duration_ms double precision,
    min_duration_ms double precision,
    max_duration_ms double precision,
    last_execution_at timestamptz,
    zero_count bigint,
    duration_histogram int []
);

COMMENT ON TYPE pgmetrics.operation_cell IS
'A pre-aggregated cell of ingest_batch: operation name, the start of its UTC hour, the count of events and '
'of successful ones, the sum, minimum and maximum of their durations in ms, the time of the last one, how many lasted '
'0 ms and the packed histogram of the others (elements bucket * 2^15 + count, docs/HISTOGRAM.md).';

GRANT USAGE ON TYPE pgmetrics.operation_cell TO pgmetrics_writer;

COMMIT;
