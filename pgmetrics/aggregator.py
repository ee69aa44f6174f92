"""The per-thread aggregator: events into (key, UTC hour) cells (pgmetrics.cells).

Each thread records into its own cell maps, guarded by its own lock, so threads never wait for one
another: the only other party that takes a thread's lock is the collector, once per flush, to swap
the maps out.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime

from pgmetrics.cells import (
    OVERFLOW,
    Cell,
    OperationCells,
    OperationKey,
    RouteCells,
    RouteKey,
    merge_cells,
)
from pgmetrics.checks import (
    MAX_DURATION_MS,
    METHODS,
    check_at,
    check_duration,
    check_method,
    check_name,
    check_success,
)
from pgmetrics.histogram import LN_GAMMA, bucket_index

# The record hot path reads these as globals rather than module attributes.
_ceil = math.ceil
_floor = math.floor
_log = math.log
_time = time.time
# x = ln(d) / ln(g) is trusted when its fractional part is outside this band (see bucket_index).
_TRUSTED_LOW = 1e-6
_TRUSTED_HIGH = 1.0 - 1e-6


class KeyLimiter:
    """Caps the distinct keys per kind and UTC hour held in memory, and with ``max_cells`` the
    (key, hour) cells of every kind and hour together; the rest go to the overflow key of their
    hour. A storage that delivers its data calls ``reset()`` once nothing is pending, so the caps
    bound what is held, not what is ever recorded: an outage of many hours holds at most
    ``max_cells`` cells, plus one overflow cell per HTTP method (and one for operations) and hour.
    """

    def __init__(self, max_keys: int, max_cells: int | None = None) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be >= 1, got {max_keys}")
        if max_cells is not None and max_cells < 1:
            raise ValueError(f"max_cells must be >= 1, got {max_cells}")
        self.max_keys = max_keys
        self.max_cells = max_cells
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, int], set[object]] = {}
        self._cells = 0
        self.overflowed_events = 0

    def admit(self, kind: str, hour: int, key: object) -> bool:
        with self._lock:
            keys = self._keys.get((kind, hour))
            if keys is None:
                keys = self._keys[(kind, hour)] = set()
            if key in keys:
                return True
            if len(keys) < self.max_keys and (
                self.max_cells is None or self._cells < self.max_cells
            ):
                keys.add(key)
                self._cells += 1
                return True
            self.overflowed_events += 1
            return False

    def reset(self) -> None:
        with self._lock:
            self._keys.clear()
            self._cells = 0


class _ThreadBuffer:
    __slots__ = ("lock", "operations", "routes", "thread")

    def __init__(self, thread: threading.Thread) -> None:
        self.lock = threading.Lock()
        self.routes: RouteCells = {}
        self.operations: OperationCells = {}
        self.thread = thread


class Aggregator:
    """Per-thread cell maps of one storage, and the caps on distinct keys and cells."""

    def __init__(self, max_keys: int, max_cells: int | None = None) -> None:
        self.max_keys = max_keys
        self.max_cells = max_cells
        # Called in each thread's first record, e.g. to start a flusher thread.
        self.on_register: Callable[[], None] | None = None
        self._reset()
        _AGGREGATORS.add(self)

    def _reset(self) -> None:
        self.limiter = KeyLimiter(self.max_keys, self.max_cells)
        self._local = threading.local()
        self._buffers: list[_ThreadBuffer] = []
        self._buffers_lock = threading.Lock()
        # Takes run one at a time: two merging into one map would lose each other's counts.
        self._take_lock = threading.Lock()

    def _register(self) -> _ThreadBuffer:
        buffer = _ThreadBuffer(threading.current_thread())
        with self._buffers_lock:
            self._buffers.append(buffer)
        self._local.buffer = buffer
        if self.on_register is not None:
            self.on_register()
        return buffer

    def record_route(
        self, route: str, method: str, success: bool, duration_ms: float, at: datetime | None
    ) -> None:
        if type(method) is not str or method not in METHODS:
            method = check_method(method)
        if type(route) is not str:
            check_name("route", route)
        if success is not True and success is not False:
            check_success(success)
        d = duration_ms
        index: int | None
        # Per record, not at flush (memory per event); bucket_index inlined: a call costs 100 ns.
        if type(d) is float and 0.0 < d <= MAX_DURATION_MS:
            x = _log(d) / LN_GAMMA
            index = _ceil(x)
            if not _TRUSTED_LOW < index - x < _TRUSTED_HIGH:
                index = bucket_index(d)
        else:
            d = check_duration(d)
            index = bucket_index(d) if d > 0.0 else None
        t = _time() if at is None else check_at(at)
        key = (route, method, _floor(t // 3600))
        try:
            buffer: _ThreadBuffer = self._local.buffer
        except AttributeError:
            buffer = self._register()
        lock = buffer.lock
        # acquire / release in try costs half as much as `with` on this path (bench.record_cost).
        lock.acquire()
        try:
            cell = buffer.routes.get(key)
            if cell is None:
                cell = self._new_route_cell(buffer, key)
            cell.total += 1
            if success:
                cell.successful += 1
            cell.sum_ms += d
            if d < cell.min_ms:
                cell.min_ms = d
            if d > cell.max_ms:
                cell.max_ms = d
            if t > cell.last_time:
                cell.last_time = t
            histogram = cell.histogram
            if index is None:
                histogram.zero_count += 1
            else:
                counts = histogram.counts
                counts[index] = counts.get(index, 0) + 1
        finally:
            lock.release()

    def _new_route_cell(self, buffer: _ThreadBuffer, key: RouteKey) -> Cell:
        route, method, hour = key
        check_name("route", route)
        if not self.limiter.admit("route", hour, (route, method)):
            key = (OVERFLOW, method, hour)
            cell = buffer.routes.get(key)
            if cell is not None:
                return cell
        cell = buffer.routes[key] = Cell()
        return cell

    def record_operation(
        self, operation: str, success: bool, duration_ms: float, at: datetime | None
    ) -> None:
        # The twin of record_route, written out again rather than shared: a shared helper would
        # add a call to every record (bench.record_cost).
        if type(operation) is not str:
            check_name("operation", operation)
        if success is not True and success is not False:
            check_success(success)
        d = duration_ms
        index: int | None
        if type(d) is float and 0.0 < d <= MAX_DURATION_MS:
            x = _log(d) / LN_GAMMA
            index = _ceil(x)
            if not _TRUSTED_LOW < index - x < _TRUSTED_HIGH:
                index = bucket_index(d)
        else:
            d = check_duration(d)
            index = bucket_index(d) if d > 0.0 else None
        t = _time() if at is None else check_at(at)
        key = (operation, _floor(t // 3600))
        try:
            buffer: _ThreadBuffer = self._local.buffer
        except AttributeError:
            buffer = self._register()
        lock = buffer.lock
        lock.acquire()
        try:
            cell = buffer.operations.get(key)
            if cell is None:
                cell = self._new_operation_cell(buffer, key)
            cell.total += 1
            if success:
                cell.successful += 1
            cell.sum_ms += d
            if d < cell.min_ms:
                cell.min_ms = d
            if d > cell.max_ms:
                cell.max_ms = d
            if t > cell.last_time:
                cell.last_time = t
            histogram = cell.histogram
            if index is None:
                histogram.zero_count += 1
            else:
                counts = histogram.counts
                counts[index] = counts.get(index, 0) + 1
        finally:
            lock.release()

    def _new_operation_cell(self, buffer: _ThreadBuffer, key: OperationKey) -> Cell:
        operation, hour = key
        check_name("operation", operation)
        if not self.limiter.admit("operation", hour, operation):
            key = (OVERFLOW, hour)
            cell = buffer.operations.get(key)
            if cell is not None:
                return cell
        cell = buffer.operations[key] = Cell()
        return cell

    def has_buffer(self) -> bool:
        """Whether the calling thread has recorded into this aggregator."""
        return hasattr(self._local, "buffer")

    def take(self, routes: RouteCells, operations: OperationCells) -> None:
        """Moves every thread's cells into ``routes`` and ``operations``."""
        with self._take_lock:
            self._take(routes, operations)

    def _take(self, routes: RouteCells, operations: OperationCells) -> None:
        with self._buffers_lock:
            buffers = list(self._buffers)
        finished = []
        for buffer in buffers:
            # Only maps swapped out under the lock are merged. An empty map stays the thread's own:
            # merged after the lock is released, it could hand over a cell the thread had just
            # added and still writes to, and the next take would add that cell to itself.
            taken_routes: RouteCells = {}
            taken_operations: OperationCells = {}
            with buffer.lock:
                if buffer.routes:
                    taken_routes, buffer.routes = buffer.routes, {}
                if buffer.operations:
                    taken_operations, buffer.operations = buffer.operations, {}
            merge_cells(routes, taken_routes)
            merge_cells(operations, taken_operations)
            if not buffer.thread.is_alive():
                finished.append(buffer)
        if finished:
            with self._buffers_lock:
                for buffer in finished:
                    # A finished thread records no more; anything it left was taken just above.
                    if buffer in self._buffers and not (buffer.routes or buffer.operations):
                        self._buffers.remove(buffer)

    def peek(self, routes: RouteCells, operations: OperationCells) -> None:
        """Adds copies of every thread's cells into ``routes`` and ``operations``."""
        with self._buffers_lock:
            buffers = list(self._buffers)
        for buffer in buffers:
            with buffer.lock:
                merge_cells(routes, buffer.routes, copy=True)
                merge_cells(operations, buffer.operations, copy=True)

    def after_fork_in_child(self) -> None:
        """Starts over: the parent's cells belong to the parent, and its locks may be held."""
        self._reset()


_AGGREGATORS: weakref.WeakSet[Aggregator] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for aggregator in list(_AGGREGATORS):
        aggregator.after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
