"""The values the storage protocol takes and returns. Row classes mirror the columns of
pgmetrics.route_metrics_summary and pgmetrics.operation_metrics_summary one to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

Bucket = Literal["hour", "day", "week", "all"]
BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week", "all")

Source = Literal["database", "memory"]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open range [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("time_range: start and end must be timezone-aware datetimes")
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
class MetricsReport(Generic[RowT]):
    """Rows of a read, and where they came from: ``database`` (with what this process has
    not flushed yet added in) or ``memory`` (the database was unreachable or not configured;
    ``error`` then says why)."""

    rows: tuple[RowT, ...]
    source: Source
    error: str | None = None
