"""Reads of a database storage: the summary functions, on the read replica first when there is
one, with what this process has not delivered (or the replica not replayed) added from memory."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import psycopg_pool
from psycopg.rows import dict_row

from pgmetrics import queries
from pgmetrics.cells import OperationCells, RouteCells, merge_cells
from pgmetrics.checks import ReadFilter
from pgmetrics.deadline import deadline
from pgmetrics.errors import DatabaseUnavailableError, from_psycopg
from pgmetrics.flusher import Batch, Flusher
from pgmetrics.pools import Pools, is_connection_failure
from pgmetrics.summary import operation_rows, route_rows
from pgmetrics.times import EARLIEST, LATEST
from pgmetrics.types import MetricsReport, OperationMetrics, RouteMetrics
from pgmetrics.unflushed import add_operation_rows, add_route_rows

logger = logging.getLogger("pgmetrics")


class _ReplicaBehindError(DatabaseUnavailableError):
    """The read replica has not replayed batches this process no longer holds in memory."""


class _Unreplayed:
    """Batches the primary acknowledged that the read replica may not have replayed yet: a read
    on the replica counts from memory those its snapshot does not show committed, so that an
    event is neither lost nor counted twice while the replica lags.

    A read on the replica drops those it saw committed: replay only moves forward, so every later
    snapshot of that replica sees them too. It does so only when no other replica read is under
    way, as that one may have an older snapshot. At most ``max_cells`` cells are kept: beyond, the
    oldest batches are dropped and ``floor`` keeps the transaction id that acknowledged the newest
    of them. The flusher delivers one batch after the other, so the primary commits them in that
    order and a standby replays them in that order: a snapshot that shows ``floor`` committed
    shows every dropped batch, and a replica whose snapshot does not is too far behind to read
    from.
    """

    def __init__(self, max_cells: int) -> None:
        self.max_cells = max_cells
        self.floor: str | None = None
        self._lock = threading.RLock()
        self._batches: list[Batch] = []
        self._cells = 0
        self._readers = 0

    def add(self, batch: Batch) -> None:
        """Keeps a batch the primary has just acknowledged (its last attempt committed)."""
        if not batch.xids or not batch.xids[-1]:
            return
        with self._lock:
            self._batches.append(batch)
            self._cells += len(batch)
            while self._cells > self.max_cells and self._batches:
                oldest = self._batches.pop(0)
                self._cells -= len(oldest)
                self.floor = oldest.xids[-1]

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._lock:
            self._readers += 1
        try:
            yield
        finally:
            with self._lock:
                self._readers -= 1

    def batches(self) -> tuple[list[Batch], str | None]:
        """The batches kept and the floor; the batches' cells are never changed after delivery."""
        with self._lock:
            return list(self._batches), self.floor

    def confirm(self, committed: set[str], floor: str | None) -> None:
        """After a read on the replica: forgets what its snapshot showed committed."""
        with self._lock:
            if self._readers != 1:
                return
            kept = [batch for batch in self._batches if committed.isdisjoint(batch.xids)]
            self._batches = kept
            self._cells = sum(len(batch) for batch in kept)
            if floor is not None and floor == self.floor and floor in committed:
                self.floor = None


class Reader:
    """Answers the reads of one storage from ``pools`` and the ``flusher``'s memory. After the
    replica could not be reached, reads go to the primary for ``replica_retry`` seconds before it
    is tried again."""

    def __init__(
        self, pools: Pools, flusher: Flusher, *, max_cells: int, replica_retry: float
    ) -> None:
        self.pools = pools
        self._flusher = flusher
        self._replica_retry = replica_retry
        # After the replica could not be reached, reads go to the primary until this moment
        # (time.monotonic()), rather than each waiting connect_timeout for it first.
        self._replica_retry_at = 0.0
        self.unreplayed = None if pools.replica_conninfo is None else _Unreplayed(max_cells)

    def after_fork_in_child(self) -> None:
        if self.unreplayed is not None:
            # What the parent delivered is the parent's to count.
            self.unreplayed = _Unreplayed(self.unreplayed.max_cells)

    def read(
        self, query: Any, params: dict[str, object]
    ) -> tuple[list[dict[str, Any]] | None, Exception | None, RouteCells, OperationCells]:
        """The summary rows of ``query`` and the cells the database did not count in them,
        each event once; when the database cannot answer within ``read_timeout``: None, the
        error, and every cell not delivered.

        With a read replica the read goes there first; when the replica cannot answer, or has
        not replayed what this process no longer holds, it goes to the primary (each attempt
        bounded by ``read_timeout``).
        """
        replica = self.pools.replica_conninfo
        if replica is not None and time.monotonic() >= self._replica_retry_at:
            try:
                rows, routes, operations = self._read_at(query, params, replica)
            except (psycopg.Error, psycopg_pool.PoolTimeout, OSError, _ReplicaBehindError) as exc:
                if is_connection_failure(exc):
                    self.pools.drop_replica()
                    self._replica_retry_at = time.monotonic() + self._replica_retry
                logger.warning(
                    "pgmetrics: read from the primary, the read replica could not serve it: %s",
                    from_psycopg(exc),
                )
            else:
                return rows, None, routes, operations
        try:
            rows, routes, operations = self._read_at(query, params, None)
        except (psycopg.Error, psycopg_pool.PoolTimeout, OSError) as exc:
            if is_connection_failure(exc):
                self.pools.drop_read()
            routes, operations = {}, {}
            self._flusher.pending_cells(routes, operations)
            return None, exc, routes, operations
        return rows, None, routes, operations

    def _read_at(
        self, query: Any, params: dict[str, object], replica: str | None
    ) -> tuple[list[dict[str, Any]], RouteCells, OperationCells]:
        """One read, on the replica at ``replica`` or (None) on the primary.

        A batch may commit while the read runs, or may have committed without this process
        hearing of it (its acknowledgement lost), or, on a replica, have been acknowledged by
        the primary and not replayed yet. So the memory side is taken after the summary's
        snapshot, and each batch held is left out when one of its attempts committed in that
        snapshot, as the database says in the same transaction.
        """
        end = time.monotonic() + self.pools.read_timeout
        unreplayed = self.unreplayed
        with (
            self._flusher.reading() as undelivered,
            contextlib.nullcontext() if unreplayed is None else unreplayed.reading(),
        ):
            pool = self.pools.get(read=True) if replica is None else self.pools.get_replica(replica)
            with (
                # A connection that cannot be had within connect_timeout will not come.
                pool.connection(
                    timeout=min(self.pools.connect_timeout, self.pools.read_timeout)
                ) as conn,
                deadline(conn, end),
                conn.transaction(),
            ):
                conn.execute(queries.READ_SNAPSHOT)
                with conn.cursor(row_factory=dict_row) as cursor:
                    rows: list[dict[str, Any]] = cursor.execute(query, params).fetchall()
                parts = undelivered()
                acknowledged, floor = ([], None) if unreplayed is None else unreplayed.batches()
                xids = [xid for batch_xids, _, _ in parts for xid in batch_xids if xid]
                xids += [xid for batch in acknowledged for xid in batch.xids if xid]
                if floor is not None:
                    xids.append(floor)
                committed: set[str] = set()
                if xids:
                    found = conn.execute(queries.COMMITTED_XIDS, {"xids": xids}).fetchall()
                    committed = {str(row[0]) for row in found}
            if replica is not None and unreplayed is not None:
                if floor is not None and floor not in committed:
                    raise _ReplicaBehindError(
                        "the read replica has not replayed batches delivered before "
                        f"transaction {floor}, which memory no longer holds"
                    )
                unreplayed.confirm(committed, floor)
        routes: RouteCells = {}
        operations: OperationCells = {}
        held: set[str] = set()
        for batch_xids, batch_routes, batch_operations in parts:
            held.update(xid for xid in batch_xids if xid)
            if committed.isdisjoint(batch_xids):
                merge_cells(routes, batch_routes)
                merge_cells(operations, batch_operations)
        for batch in acknowledged:
            # One the flusher still held when the read looked is counted there.
            if held.isdisjoint(batch.xids) and committed.isdisjoint(batch.xids):
                merge_cells(routes, batch.routes, copy=True)
                merge_cells(operations, batch.operations, copy=True)
        return rows, routes, operations

    def route_report(self, read: ReadFilter) -> MetricsReport[RouteMetrics]:
        rows, exc, cells, _ = self.read(
            queries.ROUTE_METRICS_SUMMARY,
            {**_range_params(read), "route": read.name, "method": read.method},
        )
        unflushed = route_rows(cells, read)
        if rows is None:
            error = from_psycopg(exc) if exc is not None else None
            logger.warning("pgmetrics: route metrics read from memory: %s", error)
            return MetricsReport(tuple(unflushed), "memory", str(error))
        stored = [_route_row(row, read.zone) for row in rows]
        return MetricsReport(tuple(add_route_rows(stored, unflushed)), "database")

    def operation_report(self, read: ReadFilter) -> MetricsReport[OperationMetrics]:
        rows, exc, _, cells = self.read(
            queries.OPERATION_METRICS_SUMMARY, {**_range_params(read), "operation": read.name}
        )
        unflushed = operation_rows(cells, read)
        if rows is None:
            error = from_psycopg(exc) if exc is not None else None
            logger.warning("pgmetrics: operation metrics read from memory: %s", error)
            return MetricsReport(tuple(unflushed), "memory", str(error))
        stored = [_operation_row(row, read.zone) for row in rows]
        return MetricsReport(tuple(add_operation_rows(stored, unflushed)), "database")


def _range_params(read: ReadFilter) -> dict[str, object]:
    """The parameters of a summary call that both kinds share."""
    time_range = read.time_range
    return {
        "start": time_range.start if time_range else EARLIEST,
        "end": time_range.end if time_range else LATEST,
        "bucket": read.bucket,
        "tz": read.tz,
    }


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _row_figures(row: dict[str, Any]) -> dict[str, Any]:
    """The columns of a summary row other than its key, total and last time, typed."""
    return {
        "successful": int(row["successful"]),
        "failed": int(row["failed"]),
        "error_rate": float(row["error_rate"]),
        "total_duration_ms": float(row["total_duration_ms"]),
        "average_duration_ms": float(row["average_duration_ms"]),
        "min_duration_ms": float(row["min_duration_ms"]),
        "max_duration_ms": float(row["max_duration_ms"]),
        "p50_duration_ms": _optional_float(row["p50_duration_ms"]),
        "p95_duration_ms": _optional_float(row["p95_duration_ms"]),
        "p99_duration_ms": _optional_float(row["p99_duration_ms"]),
    }


def _route_row(row: dict[str, Any], zone: ZoneInfo) -> RouteMetrics:
    return RouteMetrics(
        bucket_start=row["bucket_start"].astimezone(zone),
        route=row["route"],
        method=row["method"],
        total_requests=int(row["total_requests"]),
        last_request_at=row["last_request_at"],
        **_row_figures(row),
    )


def _operation_row(row: dict[str, Any], zone: ZoneInfo) -> OperationMetrics:
    return OperationMetrics(
        bucket_start=row["bucket_start"].astimezone(zone),
        operation=row["operation"],
        total_executions=int(row["total_executions"]),
        last_execution_at=row["last_execution_at"],
        **_row_figures(row),
    )
