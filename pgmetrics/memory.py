"""MemoryMetricsStorage: the development default, and the shape every storage answers in."""

from __future__ import annotations

import threading
from typing import Any

from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import Cell, OperationCells, RouteCells, merge_cells
from pgmetrics.checks import ReadFilter
from pgmetrics.storage import BaseMetricsStorage
from pgmetrics.summary import operation_rows, route_rows
from pgmetrics.types import MetricsReport, OperationMetrics, RouteMetrics


class MemoryMetricsStorage(BaseMetricsStorage):
    """Keeps the cells of the last ``max_hours`` UTC hours in this process; reads summarise
    them. Nothing survives the process.

    The bounds are the database storage's, applied to what is kept rather than to what waits
    for delivery: ``max_keys`` caps the distinct routes (and, separately, operations) per UTC
    hour, ``max_cells`` the (key, hour) cells of all hours together; events of further keys are
    counted under the key ``__overflow__`` (with their own HTTP method) and in
    ``overflowed_events``. Hours older than the ``max_hours`` up to the newest hour recorded
    are dropped, their events counted in ``expired_events``, and their room is free again.
    """

    def __init__(
        self, *, max_keys: int = 10_000, max_cells: int = 100_000, max_hours: int = 24 * 92
    ) -> None:
        if isinstance(max_hours, bool) or not isinstance(max_hours, int) or max_hours < 1:
            raise ValueError(f"max_hours must be an integer >= 1, got {max_hours!r}")
        if isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1:
            raise ValueError(f"max_cells must be an integer >= 1, got {max_cells!r}")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ValueError(f"max_keys must be an integer >= 1, got {max_keys!r}")
        self.max_hours = max_hours
        self._aggregator = Aggregator(max_keys, max_cells)
        self._closed = False
        self._lock = threading.Lock()
        self._routes: RouteCells = {}
        self._operations: OperationCells = {}
        # Cells of hours before this one are dropped.
        self._first_hour: int | None = None
        self.expired_events = 0

    def _take(self) -> None:
        """Moves the threads' cells into the store and drops the hours past ``max_hours``."""
        routes: RouteCells = {}
        operations: OperationCells = {}
        self._aggregator.take(routes, operations)
        hours = [key[2] for key in routes] + [key[1] for key in operations]
        if hours:
            first = max(hours) - self.max_hours + 1
            if self._first_hour is None or first > self._first_hour:
                self._first_hour = first
                self._expire(self._routes)
                self._expire(self._operations)
                self._aggregator.limiter.forget_before(first)
        self._expire(routes)
        self._expire(operations)
        merge_cells(self._routes, routes)
        merge_cells(self._operations, operations)

    def _expire(self, cells: dict[Any, Cell]) -> None:
        first = self._first_hour
        if first is None:
            return
        # The hour is the last part of a route's key and of an operation's.
        for key in [key for key in cells if key[-1] < first]:
            self.expired_events += cells.pop(key).total

    def _route_report(self, read: ReadFilter) -> MetricsReport[RouteMetrics]:
        with self._lock:
            self._take()
            rows = route_rows(self._routes, read)
        return MetricsReport(tuple(rows), "memory")

    def _operation_report(self, read: ReadFilter) -> MetricsReport[OperationMetrics]:
        with self._lock:
            self._take()
            rows = operation_rows(self._operations, read)
        return MetricsReport(tuple(rows), "memory")

    def flush(self, timeout: float | None = None) -> bool:
        """Merges every thread's cells into the store; always True."""
        with self._lock:
            self._take()
        return True

    def close(self, timeout: float | None = None) -> None:
        self.flush()

    def cells(self) -> tuple[RouteCells, OperationCells]:
        """Copies of every cell, keyed by (route, method, hour) and (operation, hour)."""
        routes: RouteCells = {}
        operations: OperationCells = {}
        with self._lock:
            self._take()
            merge_cells(routes, self._routes, copy=True)
            merge_cells(operations, self._operations, copy=True)
        return routes, operations
