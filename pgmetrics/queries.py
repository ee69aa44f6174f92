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
