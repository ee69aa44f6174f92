"""MemoryMetricsStorage: the development default, and the shape every storage answers in."""

from __future__ import annotations

import threading
from datetime import datetime

from pgmetrics.aggregate import Aggregator, OperationCells, RouteCells, merge_cells
from pgmetrics.storage import AsyncReads
from pgmetrics.summary import operation_rows, read_filters, route_rows
from pgmetrics.types import MetricsReport, OperationMetrics, RouteMetrics, TimeRange


class MemoryMetricsStorage(AsyncReads):
    """Keeps every cell in this process; reads summarise them. Nothing survives the process.

    ``max_keys`` caps the distinct routes (and, separately, operations) per UTC hour; events of
    further keys are counted under the key ``__overflow__`` (with their own HTTP method).
    """

    def __init__(self, *, max_keys: int = 10_000) -> None:
        self._aggregator = Aggregator(max_keys)
        self._lock = threading.Lock()
        self._routes: RouteCells = {}
        self._operations: OperationCells = {}

    @property
    def overflowed_events(self) -> int:
        """Events counted under ``__overflow__`` because their key was past the cap."""
        return self._aggregator.limiter.overflowed_events

    def record_route_metric(
        self,
        route: str,
        method: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None:
        self._aggregator.record_route(route, method, success, duration_ms, at)

    def record_operation_metric(
        self,
        operation: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None:
        self._aggregator.record_operation(operation, success, duration_ms, at)

    def _collect(self) -> tuple[RouteCells, OperationCells]:
        with self._lock:
            self._aggregator.take(self._routes, self._operations)
            return self._routes, self._operations

    def get_route_metrics(
        self,
        route: str | None = None,
        method: str | None = None,
        time_range: TimeRange | None = None,
        bucket: str = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[RouteMetrics]:
        method, time_range, bucket, zone = read_filters(method, time_range, bucket, tz)
        with self._lock:
            self._aggregator.take(self._routes, self._operations)
            rows = route_rows(self._routes, route, method, time_range, bucket, zone)
        return MetricsReport(tuple(rows), "memory")

    def get_operation_metrics(
        self,
        operation: str | None = None,
        time_range: TimeRange | None = None,
        bucket: str = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[OperationMetrics]:
        _, time_range, bucket, zone = read_filters(None, time_range, bucket, tz)
        with self._lock:
            self._aggregator.take(self._routes, self._operations)
            rows = operation_rows(self._operations, operation, time_range, bucket, zone)
        return MetricsReport(tuple(rows), "memory")

    def flush(self, timeout: float | None = None) -> bool:
        """Merges every thread's cells into the store; always True."""
        self._collect()
        return True

    def close(self, timeout: float | None = None) -> None:
        self._collect()

    def cells(self) -> tuple[RouteCells, OperationCells]:
        """Copies of every cell, keyed by (route, method, hour) and (operation, hour)."""
        routes: RouteCells = {}
        operations: OperationCells = {}
        with self._lock:
            self._aggregator.take(self._routes, self._operations)
            merge_cells(routes, self._routes, copy=True)
            merge_cells(operations, self._operations, copy=True)
        return routes, operations
