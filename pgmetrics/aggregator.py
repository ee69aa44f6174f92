"""The per-thread aggregator: events into (key, UTC hour) cells (pgmetrics.cells).

Each thread records into its own cell maps, guarded by its own lock, so threads never wait for one
another: the only other party that takes a thread's lock is the collector, once per flush, to swap
the maps out.

A SIGTERM handler runs in the main thread between two bytecodes, maybe in the middle of a record
that holds the main thread's lock: collecting from that handler, the main thread's maps are
taken without the lock (nothing else writes them while the handler runs), and the cell that
record was writing is settled to the events its histogram counts, so that what is sent is
consistent (the interrupted event itself, which its record never returned from, is left out).
The locks other than the per-thread ones are reentrant, so that the handler may take them again.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

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
        self._lock = threading.RLock()
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

    def forget_before(self, hour: int) -> None:
        """Forgets the keys of the hours before ``hour``, whose cells are gone: their room is
        free again."""
        with self._lock:
            for kind_hour in [kind_hour for kind_hour in self._keys if kind_hour[1] < hour]:
                self._cells -= len(self._keys.pop(kind_hour))


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
        self._buffers_lock = threading.RLock()
        # Takes run one at a time: two merging into one map would lose each other's counts.
        self._take_lock = threading.RLock()

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
            locked = _hold(buffer)
            try:
                if buffer.routes:
                    taken_routes, buffer.routes = buffer.routes, {}
                if buffer.operations:
                    taken_operations, buffer.operations = buffer.operations, {}
            finally:
                if locked:
                    buffer.lock.release()
            if not locked:
                _settle(taken_routes)
                _settle(taken_operations)
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
            locked = _hold(buffer)
            try:
                found_routes: RouteCells = {}
                found_operations: OperationCells = {}
                merge_cells(found_routes, buffer.routes, copy=True)
                merge_cells(found_operations, buffer.operations, copy=True)
            finally:
                if locked:
                    buffer.lock.release()
            if not locked:
                _settle(found_routes)
                _settle(found_operations)
            merge_cells(routes, found_routes)
            merge_cells(operations, found_operations)

    def after_fork_in_child(self) -> None:
        """Starts over: the parent's cells belong to the parent, and its locks may be held."""
        self._reset()


# How long a thread collecting its own buffer waits for its lock before it concludes that it holds
# the lock itself, below in its stack (a signal handler interrupted its record).
_OWN_LOCK_WAIT = 0.1


def _hold(buffer: _ThreadBuffer) -> bool:
    """Takes the buffer's lock; False (and no lock) when the calling thread is the buffer's own
    and the lock stays taken: only a record of its own, which a signal handler interrupted, holds
    it that long."""
    if buffer.thread is not threading.current_thread():
        buffer.lock.acquire()
        return True
    return buffer.lock.acquire(timeout=_OWN_LOCK_WAIT)


def _settle(cells: dict[Any, Cell]) -> None:
    """Makes each cell count the events its histogram counts: a record interrupted halfway has
    raised the total (and maybe ``successful``) but not the histogram yet, or made an empty cell.
    """
    for key, cell in list(cells.items()):
        histogram = cell.histogram
        events = histogram.zero_count + sum(histogram.counts.values())
        if events == cell.total:
            continue
        if events == 0:
            del cells[key]
            continue
        cell.total = events
        cell.successful = min(cell.successful, events)


_AGGREGATORS: weakref.WeakSet[Aggregator] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for aggregator in list(_AGGREGATORS):
        aggregator.after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
