"""Summary rows from in-memory cells, with the semantics of the SQL summary functions: buckets of
an hour, a day, an ISO week (from Monday), a calendar month or everything, in a time zone;
half-open time ranges over the hour of each cell; the error rate a fraction; percentiles from the
merged duration histogram."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pgmetrics.cells import Cell, OperationCells, RouteCells, copy_cell, merge_cell
from pgmetrics.checks import ReadFilter
from pgmetrics.times import EARLIEST, from_timestamp, hour_start
from pgmetrics.types import Bucket, OperationMetrics, RouteMetrics, TimeRange

G = TypeVar("G", bound=Hashable)


def bucket_start(
    start: datetime, bucket: Bucket, tz: ZoneInfo, time_range: TimeRange | None
) -> datetime:
    """The start of the bucket holding the UTC hour starting at ``start``, as the SQL summaries
    define it: ``hour`` buckets are UTC hours whatever ``tz`` (an hour is never split), ``day``,
    ``week`` and ``month`` start at local midnight in ``tz``, ``all`` starts where the range
    starts."""
    if bucket == "all":
        return time_range.start if time_range is not None else EARLIEST
    local = start.astimezone(tz)
    if bucket == "hour":
        return local
    if bucket == "week":
        local -= timedelta(days=local.weekday())
    elif bucket == "month":
        local = local.replace(day=1)
    # ZoneInfo derives the offset from the wall-clock time, so a truncation across a DST change
    # carries the offset of the bucket's own start.
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


class _BucketStarts:
    """The start of the bucket of each hour, computed once per hour."""

    def __init__(self, time_range: TimeRange | None, bucket: Bucket, tz: ZoneInfo) -> None:
        self._range = time_range
        self._bucket = bucket
        self._tz = tz
        self._cache: dict[int, datetime | None] = {}

    def of(self, hour: int) -> datetime | None:
        """The start of the hour's bucket, or None when the hour is outside the range."""
        if hour not in self._cache:
            start = hour_start(hour)
            inside = self._range is None or self._range.start <= start < self._range.end
            self._cache[hour] = (
                bucket_start(start, self._bucket, self._tz, self._range) if inside else None
            )
        return self._cache[hour]


def _grouped(
    cells: dict[Any, Cell],
    read: ReadFilter,
    group: Callable[[datetime, Any], G | None],
) -> dict[G, Cell]:
    """Copies of ``cells`` merged per ``group(bucket start, key)``; None leaves a cell out."""
    starts = _BucketStarts(read.time_range, read.bucket, read.zone)
    grouped: dict[G, Cell] = {}
    for key, cell in cells.items():
        start = starts.of(key[-1])
        if start is None:
            continue
        group_key = group(start, key)
        if group_key is None:
            continue
        target = grouped.get(group_key)
        if target is None:
            grouped[group_key] = copy_cell(cell)
        else:
            merge_cell(target, cell)
    return grouped


def route_rows(cells: RouteCells, read: ReadFilter) -> list[RouteMetrics]:
    def group(start: datetime, key: tuple[str, str, int]) -> tuple[datetime, str, str] | None:
        route, method, _ = key
        if (read.name is not None and route != read.name) or (
            read.method is not None and method != read.method
        ):
            return None
        return start, route, method

    rows = [
        RouteMetrics(
            bucket_start=start,
            route=route,
            method=method,
            last_request_at=from_timestamp(cell.last_time),
            total_requests=int(cell.total),
            **_cell_figures(cell),
        )
        for (start, route, method), cell in _grouped(cells, read, group).items()
    ]
    rows.sort(key=lambda row: (row.bucket_start.timestamp(), row.route, row.method))
    return rows


def operation_rows(cells: OperationCells, read: ReadFilter) -> list[OperationMetrics]:
    def group(start: datetime, key: tuple[str, int]) -> tuple[datetime, str] | None:
        operation, _ = key
        if read.name is not None and operation != read.name:
            return None
        return start, operation

    rows = [
        OperationMetrics(
            bucket_start=start,
            operation=operation,
            last_execution_at=from_timestamp(cell.last_time),
            total_executions=int(cell.total),
            **_cell_figures(cell),
        )
        for (start, operation), cell in _grouped(cells, read, group).items()
    ]
    rows.sort(key=lambda row: (row.bucket_start.timestamp(), row.operation))
    return rows


def _cell_figures(cell: Cell) -> dict[str, Any]:
    """The row columns a cell gives, other than its key, total and last time."""
    total, successful = int(cell.total), int(cell.successful)
    histogram, low, high = cell.histogram, cell.min_ms, cell.max_ms
    return {
        "successful": successful,
        "failed": total - successful,
        "error_rate": (total - successful) / total,
        "total_duration_ms": cell.sum_ms,
        "average_duration_ms": cell.sum_ms / total,
        "min_duration_ms": low,
        "max_duration_ms": high,
        "p50_duration_ms": histogram.quantile(0.5, low, high),
        "p95_duration_ms": histogram.quantile(0.95, low, high),
        "p99_duration_ms": histogram.quantile(0.99, low, high),
    }
