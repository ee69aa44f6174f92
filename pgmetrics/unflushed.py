"""Summary rows of the database with the events this process has not delivered yet added in."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from pgmetrics.types import OperationMetrics, RouteMetrics

RowT = TypeVar("RowT", RouteMetrics, OperationMetrics)


def _added(
    stored: Iterable[RowT],
    unflushed: Iterable[RowT],
    key: Callable[[RowT], tuple[Hashable, ...]],
    total: str,
    last: str,
) -> list[RowT]:
    """Percentiles stay those of the database: the unflushed events are not in its histograms.
    A row only in memory keeps its own, from its cells' histograms. ``total`` and ``last`` name
    the row's count and last-event columns."""
    rows = {key(row): row for row in stored}
    for extra in unflushed:
        row = rows.get(key(extra))
        if row is None:
            rows[key(extra)] = extra
            continue
        count = getattr(row, total) + getattr(extra, total)
        failed = row.failed + extra.failed
        duration = row.total_duration_ms + extra.total_duration_ms
        changes: dict[str, Any] = {
            total: count,
            last: max(getattr(row, last), getattr(extra, last)),
        }
        rows[key(extra)] = dataclasses.replace(
            row,
            successful=row.successful + extra.successful,
            failed=failed,
            error_rate=failed / count,
            total_duration_ms=duration,
            average_duration_ms=duration / count,
            min_duration_ms=min(row.min_duration_ms, extra.min_duration_ms),
            max_duration_ms=max(row.max_duration_ms, extra.max_duration_ms),
            **changes,
        )
    return sorted(rows.values(), key=lambda row: (row.bucket_start.timestamp(), *key(row)[1:]))


def _route_key(row: RouteMetrics) -> tuple[Hashable, ...]:
    return (row.bucket_start, row.route, row.method)


def _operation_key(row: OperationMetrics) -> tuple[Hashable, ...]:
    return (row.bucket_start, row.operation)


def add_route_rows(
    stored: Iterable[RouteMetrics], unflushed: Iterable[RouteMetrics]
) -> list[RouteMetrics]:
    """Route rows of the database with the unflushed rows of the same buckets added in."""
    return _added(stored, unflushed, _route_key, "total_requests", "last_request_at")


def add_operation_rows(
    stored: Iterable[OperationMetrics], unflushed: Iterable[OperationMetrics]
) -> list[OperationMetrics]:
    """Operation rows of the database with the unflushed rows of the same buckets added in."""
    return _added(stored, unflushed, _operation_key, "total_executions", "last_execution_at")
