"""The values the storage protocol takes and returns. Row classes mirror the columns of
pgmetrics.route_metrics_summary and pgmetrics.operation_metrics_summary one to one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar, overload

# The names are checked by pgmetrics.checks, which reads them from here.
Bucket = Literal["hour", "day", "week", "month", "all"]

Source = Literal["database", "memory"]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open range [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            # A date (datetime's base class) has no time of day and no zone: refused, as a str is.
            if not isinstance(value, datetime):
                raise ValueError(
                    f"time_range: {name} must be a timezone-aware datetime, "
                    f"got {type(value).__name__}"
                )
            if value.utcoffset() is None:
                raise ValueError(f"time_range: {name} must be a timezone-aware datetime")
        if self.start > self.end:
            raise ValueError("time_range: start must not be after end")


@dataclass(frozen=True, slots=True)
class RouteMetrics:
    """One row of route_metrics_summary."""

    bucket_start: datetime
    route: str
    method: str
    total_requests: int
    successful: int
    failed: int
    error_rate: float
    total_duration_ms: float
    average_duration_ms: float
    min_duration_ms: float
    max_duration_ms: float
    p50_duration_ms: float | None
    p95_duration_ms: float | None
    p99_duration_ms: float | None
    last_request_at: datetime


@dataclass(frozen=True, slots=True)
class OperationMetrics:
    """One row of operation_metrics_summary."""

    bucket_start: datetime
    operation: str
    total_executions: int
    successful: int
    failed: int
    error_rate: float
    total_duration_ms: float
    average_duration_ms: float
    min_duration_ms: float
    max_duration_ms: float
    p50_duration_ms: float | None
    p95_duration_ms: float | None
    p99_duration_ms: float | None
    last_execution_at: datetime


RowT = TypeVar("RowT", RouteMetrics, OperationMetrics)


@dataclass(frozen=True, slots=True)
class MetricsReport(Sequence[RowT]):
    """Rows of a read, and where they came from: ``database`` (with what this process has
    not flushed yet added in) or ``memory`` (the database was unreachable or not configured;
    ``error`` then says why).

    The report is the sequence of its rows, as the original interface returned an array:
    ``for row in report``, ``len(report)``, ``report[0]``; ``rows`` is the same as a tuple.
    """

    rows: tuple[RowT, ...]
    source: Source
    error: str | None = None

    def __iter__(self) -> Iterator[RowT]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> RowT: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[RowT, ...]: ...

    def __getitem__(self, index: int | slice) -> RowT | tuple[RowT, ...]:
        return self.rows[index]
