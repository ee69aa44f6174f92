"""MemoryMetricsStorage: the development default, and the shape every storage answers in."""

from __future__ import annotations

import threading

from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import OperationCells, RouteCells, merge_cells
from pgmetrics.checks import ReadFilter
from pgmetrics.storage import BaseMetricsStorage
from pgmetrics.summary import operation_rows, route_rows
from pgmetrics.types import MetricsReport, OperationMetrics, RouteMetrics


class MemoryMetricsStorage(BaseMetricsStorage):
    """Keeps every cell in this process; reads summarise them. Nothing survives the process.

    ``max_keys`` caps the distinct routes (and, separately, operations) per UTC hour; events of
    further keys are counted under the key ``__overflow__`` (with their own HTTP method).
    """

    def __init__(self, *, max_keys: int = 10_000) -> None:
        self._aggregator = Aggregator(max_keys)
        self._closed = False
        self._lock = threading.Lock()
        self._routes: RouteCells = {}
        self._operations: OperationCells = {}

    def _collect(self) -> tuple[RouteCells, OperationCells]:
        with self._lock:
            self._aggregator.take(self._routes, self._operations)
            return self._routes, self._operations

    def _route_report(self, read: ReadFilter) -> MetricsReport[RouteMetrics]:
        with self._lock:
            self._aggregator.take(self._routes, self._operations)
            rows = route_rows(self._routes, read)
        return MetricsReport(tuple(rows), "memory")

    def _operation_report(self, read: ReadFilter) -> MetricsReport[OperationMetrics]:
        with self._lock:
            self._aggregator.take(self._routes, self._operations)
            rows = operation_rows(self._operations, read)
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
