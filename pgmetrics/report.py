"""Rendering summary rows for people (table) and programs (json, csv)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pgmetrics.types import OperationMetrics, RouteMetrics

FORMATS = ("table", "json", "csv")


def _by_traffic(rows: Sequence[Any], total: str) -> list[Any]:
    return sorted(rows, key=lambda row: (-getattr(row, total), str(row.bucket_start)))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _format_bucket(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def _table(headers: list[str], body: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *body, strict=False)]
    numeric = [index >= 2 for index in range(len(headers))]
    lines = []
    for row in [headers, *body]:
        cells = [
            cell.rjust(width) if right and row is not headers else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _figure_columns(row: RouteMetrics | OperationMetrics) -> list[str]:
    """The errors, avg ms, p95 ms and max ms columns of a table row."""
    return [
        f"{row.error_rate:.1%}",
        _ms(row.average_duration_ms),
        _ms(row.p95_duration_ms),
        _ms(row.max_duration_ms),
    ]


def route_table(rows: Sequence[RouteMetrics]) -> str:
    if not rows:
        return "(no route metrics in this range)"
    headers = ["bucket", "route", "method", "requests", "errors", "avg ms", "p95 ms", "max ms"]
    body = [
        [
            _format_bucket(row.bucket_start),
            row.route,
            row.method,
            f"{row.total_requests:,}",
            *_figure_columns(row),
        ]
        for row in _by_traffic(rows, "total_requests")
    ]
    return _table(headers, body)


def operation_table(rows: Sequence[OperationMetrics]) -> str:
    if not rows:
        return "(no operation metrics in this range)"
    headers = ["bucket", "operation", "executions", "errors", "avg ms", "p95 ms", "max ms"]
    body = [
        [
            _format_bucket(row.bucket_start),
            row.operation,
            f"{row.total_executions:,}",
            *_figure_columns(row),
        ]
        for row in _by_traffic(rows, "total_executions")
    ]
    return _table(headers, body)


def row_dict(row: RouteMetrics | OperationMetrics) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in dataclasses.asdict(row).items()
    }


def as_json(routes: Sequence[RouteMetrics], operations: Sequence[OperationMetrics]) -> str:
    body = {
        "routes": [row_dict(row) for row in routes],
        "operations": [row_dict(row) for row in operations],
    }
    return json.dumps(body, indent=2)


def as_csv(routes: Sequence[RouteMetrics], operations: Sequence[OperationMetrics]) -> str:
    """One CSV: a ``kind`` column, then the union of the route and operation columns."""
    fields = ["kind", *(f.name for f in dataclasses.fields(RouteMetrics))]
    fields += [f.name for f in dataclasses.fields(OperationMetrics) if f.name not in fields]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for kind, rows in (("route", routes), ("operation", operations)):
        for row in rows:
            writer.writerow({"kind": kind, **row_dict(row)})
    return out.getvalue()
