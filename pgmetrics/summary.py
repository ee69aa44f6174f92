"""Summary rows from in-memory cells, with the semantics of the SQL summary functions: buckets of
an hour, a day, an ISO week (from Monday) or everything, in a time zone; half-open time ranges over
the hour of each cell; the error rate a fraction; percentiles from the merged duration histogram."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pgmetrics.aggregate import (
    Cell,
    OperationCells,
    RouteCells,
    check_method,
    copy_cell,
    from_timestamp,
    hour_start,
    merge_cell,
)
from pgmetrics.histogram import Histogram
from pgmetrics.types import BUCKETS, OperationMetrics, RouteMetrics, TimeRange


def check_bucket(bucket: object) -> str:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket!r}")
    return str(bucket)


def zone(tz: object) -> ZoneInfo:
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"tz must be a time zone name, got {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"tz must be a time zone name, got {tz!r}") from None


# A read without a time range reads everything: the widest range timestamptz and datetime share,
# less a day at each end so that its bounds convert to any time zone.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def check_time_range(time_range: object) -> TimeRange | None:
    if time_range is None or isinstance(time_range, TimeRange):
        return time_range
    raise ValueError(f"time_range must be a TimeRange or None, got {type(time_range).__name__}")


def bucket_start(
    start: datetime, bucket: str, tz: ZoneInfo, time_range: TimeRange | None
) -> datetime:
    """The start of the bucket holding the UTC hour starting at ``start``, as the SQL summaries
    define it: ``hour`` buckets are UTC hours whatever ``tz`` (an hour is never split), ``day``
    and ``week`` start at local midnight in ``tz``, ``all`` starts where the range starts."""
    if bucket == "all":
        return time_range.start if time_range is not None else EARLIEST
    if bucket == "hour":
        return start.astimezone(tz)
    local = start.astimezone(tz)
    if bucket == "day":
        truncated = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        truncated = (local - timedelta(days=local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    # ZoneInfo derives the offset from the wall-clock time, so a truncation across a DST change
    # carries the offset of the bucket's own start.
    return truncated


class _Buckets:
    def __init__(self, time_range: TimeRange | None, bucket: str, tz: ZoneInfo) -> None:
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


def _sort_key(bucket: datetime) -> float:
    return bucket.timestamp()


def route_rows(
    cells: RouteCells,
    route: str | None,
    method: str | None,
    time_range: TimeRange | None,
    bucket: str,
    tz: ZoneInfo,
) -> list[RouteMetrics]:
    buckets = _Buckets(time_range, bucket, tz)
    grouped: dict[tuple[datetime, str, str], Cell] = {}
    for (cell_route, cell_method, hour), cell in cells.items():
        if (route is not None and cell_route != route) or (
            method is not None and cell_method != method
        ):
            continue
        start = buckets.of(hour)
        if start is None:
            continue
        key = (start, cell_route, cell_method)
        target = grouped.get(key)
        if target is None:
            grouped[key] = copy_cell(cell)
        else:
            merge_cell(target, cell)
    rows = [
        RouteMetrics(
            bucket_start=start,
            route=cell_route,
            method=cell_method,
            last_request_at=from_timestamp(cell[5]),
            total_requests=int(cell[0]),
            **_figures(cell),
        )
        for (start, cell_route, cell_method), cell in grouped.items()
    ]
    rows.sort(key=lambda row: (_sort_key(row.bucket_start), row.route, row.method))
    return rows


def operation_rows(
    cells: OperationCells,
    operation: str | None,
    time_range: TimeRange | None,
    bucket: str,
    tz: ZoneInfo,
) -> list[OperationMetrics]:
    buckets = _Buckets(time_range, bucket, tz)
    grouped: dict[tuple[datetime, str], Cell] = {}
    for (cell_operation, hour), cell in cells.items():
        if operation is not None and cell_operation != operation:
            continue
        start = buckets.of(hour)
        if start is None:
            continue
        key = (start, cell_operation)
        target = grouped.get(key)
        if target is None:
            grouped[key] = copy_cell(cell)
        else:
            merge_cell(target, cell)
    rows = [
        OperationMetrics(
            bucket_start=start,
            operation=cell_operation,
            last_execution_at=from_timestamp(cell[5]),
            total_executions=int(cell[0]),
            **_figures(cell),
        )
        for (start, cell_operation), cell in grouped.items()
    ]
    rows.sort(key=lambda row: (_sort_key(row.bucket_start), row.operation))
    return rows


def _figures(cell: Cell) -> dict[str, Any]:
    total, successful = int(cell[0]), int(cell[1])
    histogram: Histogram = cell[6]
    return {
        "successful": successful,
        "failed": total - successful,
        "error_rate": (total - successful) / total,
        "total_duration_ms": cell[2],
        "average_duration_ms": cell[2] / total,
        "min_duration_ms": cell[3],
        "max_duration_ms": cell[4],
        "p50_duration_ms": histogram.quantile(0.5, cell[3], cell[4]),
        "p95_duration_ms": histogram.quantile(0.95, cell[3], cell[4]),
        "p99_duration_ms": histogram.quantile(0.99, cell[3], cell[4]),
    }


def add_route_rows(
    stored: Iterable[RouteMetrics], unflushed: Iterable[RouteMetrics]
) -> list[RouteMetrics]:
    """Rows of the database with what this process has not flushed yet added in. Percentiles stay
    those of the database: the unflushed events are not in its histograms. A row only in memory
    keeps its own, from its cells' histograms."""
    rows = {(r.bucket_start, r.route, r.method): r for r in stored}
    for extra in unflushed:
        key = (extra.bucket_start, extra.route, extra.method)
        row = rows.get(key)
        if row is None:
            rows[key] = extra
            continue
        total = row.total_requests + extra.total_requests
        failed = row.failed + extra.failed
        duration = row.total_duration_ms + extra.total_duration_ms
        rows[key] = dataclasses.replace(
            row,
            total_requests=total,
            successful=row.successful + extra.successful,
            failed=failed,
            error_rate=failed / total,
            total_duration_ms=duration,
            average_duration_ms=duration / total,
            min_duration_ms=min(row.min_duration_ms, extra.min_duration_ms),
            max_duration_ms=max(row.max_duration_ms, extra.max_duration_ms),
            last_request_at=max(row.last_request_at, extra.last_request_at),
        )
    return sorted(rows.values(), key=lambda r: (_sort_key(r.bucket_start), r.route, r.method))


def add_operation_rows(
    stored: Iterable[OperationMetrics], unflushed: Iterable[OperationMetrics]
) -> list[OperationMetrics]:
    """The operation twin of ``add_route_rows``."""
    rows = {(r.bucket_start, r.operation): r for r in stored}
    for extra in unflushed:
        key = (extra.bucket_start, extra.operation)
        row = rows.get(key)
        if row is None:
            rows[key] = extra
            continue
        total = row.total_executions + extra.total_executions
        failed = row.failed + extra.failed
        duration = row.total_duration_ms + extra.total_duration_ms
        rows[key] = dataclasses.replace(
            row,
            total_executions=total,
            successful=row.successful + extra.successful,
            failed=failed,
            error_rate=failed / total,
            total_duration_ms=duration,
            average_duration_ms=duration / total,
            min_duration_ms=min(row.min_duration_ms, extra.min_duration_ms),
            max_duration_ms=max(row.max_duration_ms, extra.max_duration_ms),
            last_execution_at=max(row.last_execution_at, extra.last_execution_at),
        )
    return sorted(rows.values(), key=lambda r: (_sort_key(r.bucket_start), r.operation))


def read_filters(
    method: object, time_range: object, bucket: object, tz: object
) -> tuple[str | None, TimeRange | None, str, ZoneInfo]:
    """The read arguments checked (ValueError on a bad one), method upper-cased."""
    return (
        None if method is None else check_method(method),
        check_time_range(time_range),
        check_bucket(bucket),
        zone(tz),
    )
