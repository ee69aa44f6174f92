"""Every SQL statement pgmetrics runs: each calls one pgmetrics function with named parameters."""

from __future__ import annotations

from typing import LiteralString

INGEST_BATCH: LiteralString = """
SELECT pgmetrics.ingest_batch(
    batch_id => %(batch_id)s, routes => %(routes)s, operations => %(operations)s
) AS applied
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
