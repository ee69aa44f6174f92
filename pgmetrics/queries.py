"""Every SQL statement pgmetrics runs: each calls one pgmetrics function with named parameters."""

from __future__ import annotations

from typing import LiteralString

# The cell arrays go in binary with no type of their own: the casts give them theirs.
INGEST_BATCH: LiteralString = """
SELECT pgmetrics.ingest_batch(
    batch_id => %(batch_id)s,
    routes => %(routes)b::pgmetrics.route_cell[],
    operations => %(operations)b::pgmetrics.operation_cell[]
) AS applied
"""

# The oids the binary cell arrays name, looked up in the transaction that sends them, so that a
# schema deployed again (new oids) is never sent stale ones.
CELL_TYPES: LiteralString = """
SELECT 'pgmetrics.route_cell'::regtype::oid AS routes,
    'pgmetrics.operation_cell'::regtype::oid AS operations
"""

FOLD_EVENTS: LiteralString = "SELECT pgmetrics.fold_events(wait => false) AS result"

# The transaction an ingest_batch attempt runs in, asked first: a read can then tell whether the
# attempt committed before its own snapshot (COMMITTED_XIDS). Catalog functions, callable by any
# role, where pgmetrics.ingested_batches is for the schema owner only.
CURRENT_XACT_ID: LiteralString = "SELECT pg_catalog.pg_current_xact_id()::text AS xid"

# The first statement of a read's transaction: the summary and COMMITTED_XIDS see one snapshot.
READ_SNAPSHOT: LiteralString = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"

# Of the given transaction ids, those committed in this transaction's snapshot. An id the snapshot
# does not see as finished is never passed to pg_xact_status (which raises for one in the future).
COMMITTED_XIDS: LiteralString = """
SELECT t.x AS xid
FROM unnest(%(xids)s::text[]) AS t (x)
WHERE CASE
    WHEN pg_catalog.pg_visible_in_snapshot(t.x::xid8, pg_catalog.pg_current_snapshot())
        THEN pg_catalog.pg_xact_status(t.x::xid8) IS NOT DISTINCT FROM 'committed'
    ELSE false
END
"""

ROUTE_METRICS_SUMMARY: LiteralString = """
SELECT * FROM pgmetrics.route_metrics_summary(
    start => %(start)s, "end" => %(end)s, bucket => %(bucket)s,
    route => %(route)s, method => %(method)s, tz => %(tz)s
)
"""

OPERATION_METRICS_SUMMARY: LiteralString = """
SELECT * FROM pgmetrics.operation_metrics_summary(
    start => %(start)s, "end" => %(end)s, bucket => %(bucket)s,
    operation => %(operation)s, tz => %(tz)s
)
"""

REPORT_STATUS: LiteralString = "SELECT pgmetrics.report_status() AS status"

RUN_RETENTION: LiteralString = "SELECT pgmetrics.run_retention(now => %(now)s) AS result"

SCHEDULE_RETENTION: LiteralString = (
    "SELECT pgmetrics.schedule_retention(schedule => %(schedule)s) AS jobid"
)

UNSCHEDULE_RETENTION: LiteralString = "SELECT pgmetrics.unschedule_retention() AS removed"

SET_SETTING: LiteralString = (
    "SELECT pgmetrics.set_setting(name => %(name)s, value => %(value)s) AS value"
)

# The dashboard's reads (pgmetrics.web.dashboard), each through a function the reader may run.
# One row per key over the whole range: the tables and the overview's counts.
DASHBOARD_ROUTE_KEYS: LiteralString = """
SELECT route AS name, method, total_requests AS total, successful, failed, error_rate,
    average_duration_ms, min_duration_ms, max_duration_ms,
    p50_duration_ms, p95_duration_ms, p99_duration_ms, last_request_at AS last_at
FROM pgmetrics.route_metrics_summary(
    start => %(start)s, "end" => %(end)s, bucket => 'all',
    route => %(route)s, method => %(method)s, tz => %(tz)s
)
"""

DASHBOARD_OPERATION_KEYS: LiteralString = """
SELECT operation AS name, NULL::text AS method, total_executions AS total, successful, failed,
    error_rate, average_duration_ms, min_duration_ms, max_duration_ms,
    p50_duration_ms, p95_duration_ms, p99_duration_ms, last_execution_at AS last_at
FROM pgmetrics.operation_metrics_summary(
    start => %(start)s, "end" => %(end)s, bucket => 'all', operation => %(operation)s, tz => %(tz)s
)
"""

# Per bucket: every key's counts summed (name NULL), and the rows of the keys asked for.
DASHBOARD_ROUTE_SERIES: LiteralString = """
WITH s AS (
    SELECT * FROM pgmetrics.route_metrics_summary(
        start => %(start)s, "end" => %(end)s, bucket => %(bucket)s,
        route => %(route)s, method => %(method)s, tz => %(tz)s
    )
)
SELECT bucket_start, NULL::text AS name, NULL::text AS method,
    sum(total_requests)::bigint AS total, sum(failed)::bigint AS failed,
    NULL::float8 AS p50_duration_ms, NULL::float8 AS p95_duration_ms,
    NULL::float8 AS p99_duration_ms
FROM s GROUP BY bucket_start
UNION ALL
SELECT s.bucket_start, s.route, s.method, s.total_requests, s.failed,
    s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms
FROM s JOIN unnest(%(names)s::text[], %(methods)s::text[]) AS k (name, method)
    ON s.route = k.name AND s.method = k.method
ORDER BY 1
"""

DASHBOARD_OPERATION_SERIES: LiteralString = """
WITH s AS (
    SELECT * FROM pgmetrics.operation_metrics_summary(
        start => %(start)s, "end" => %(end)s, bucket => %(bucket)s,
        operation => %(operation)s, tz => %(tz)s
    )
)
SELECT bucket_start, NULL::text AS name, NULL::text AS method,
    sum(total_executions)::bigint AS total, sum(failed)::bigint AS failed,
    NULL::float8 AS p50_duration_ms, NULL::float8 AS p95_duration_ms,
    NULL::float8 AS p99_duration_ms
FROM s GROUP BY bucket_start
UNION ALL
SELECT s.bucket_start, s.operation, NULL, s.total_executions, s.failed,
    s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms
FROM s WHERE s.operation = ANY(%(names)s::text[])
ORDER BY 1
"""

ROUTE_DURATION_HISTOGRAM: LiteralString = """
SELECT lower_ms, upper_ms, count FROM pgmetrics.route_duration_histogram(
    start => %(start)s, "end" => %(end)s, route => %(route)s, method => %(method)s
)
"""

OPERATION_DURATION_HISTOGRAM: LiteralString = """
SELECT lower_ms, upper_ms, count FROM pgmetrics.operation_duration_histogram(
    start => %(start)s, "end" => %(end)s, operation => %(operation)s
)
"""
