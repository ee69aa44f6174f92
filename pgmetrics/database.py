"""DatabaseMetricsStorage: aggregates in memory, delivers batches to PostgreSQL exactly once."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from datetime import datetime
from typing import Any

import psycopg
import psycopg_pool
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pgmetrics import queries, shutdown
from pgmetrics.aggregate import (
    Aggregator,
    OperationCells,
    RouteCells,
    check_name,
    operation_cells_json,
    route_cells_json,
)
from pgmetrics.errors import BatchRejectedError, from_psycopg
from pgmetrics.flusher import Batch, Flusher, Outcome
from pgmetrics.spool import DEFAULT_MAX_BYTES, Spool
from pgmetrics.spool import cells as batch_cells
from pgmetrics.spool import events as batch_events
from pgmetrics.storage import AsyncReads
from pgmetrics.summary import (
    EARLIEST,
    LATEST,
    add_operation_rows,
    add_route_rows,
    operation_rows,
    read_filters,
    route_rows,
)
from pgmetrics.types import MetricsReport, OperationMetrics, RouteMetrics, TimeRange

logger = logging.getLogger("pgmetrics")


Pool = psycopg_pool.ConnectionPool[Any]


class DatabaseMetricsStorage(AsyncReads):
    """Records into per-thread in-memory cells; a daemon thread sends them every ``batch_interval``
    seconds as one ``pgmetrics.ingest_batch`` call and retries failed batches under their id.

    ``database`` is a DSN (the storage then owns a small pool, opened at the first use, never in
    the constructor) or a caller's open ``psycopg_pool.ConnectionPool``, which is never closed here.
    Reads call the summary functions and add what this process has not delivered yet; when the
    database cannot answer they answer from that memory alone, with ``source="memory"``.
    """

    def __init__(
        self,
        database: str | Pool,
        *,
        batch_interval: float = 5.0,
        max_keys: int = 10_000,
        shutdown_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 5.0,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if batch_interval <= 0:
            raise ValueError(f"batch_interval must be > 0 seconds, got {batch_interval}")
        if shutdown_timeout < 0:
            raise ValueError(f"shutdown_timeout must be >= 0 seconds, got {shutdown_timeout}")
        if isinstance(database, str):
            self._conninfo: str | None = database
            self._pool: Pool | None = None
        else:
            self._conninfo = None
            self._pool = database
        self._owns_pool = self._conninfo is not None
        self._pool_lock = threading.Lock()
        self.shutdown_timeout = shutdown_timeout
        self.read_timeout = read_timeout
        self._aggregator = Aggregator(max_keys)
        self._spool = None if spool_dir is None else Spool(spool_dir, spool_max_bytes)
        self._spool_claimed = False
        self._start_lock = threading.Lock()
        self.spool_overflowed_events = 0
        self._flusher = Flusher(
            self._aggregator,
            self._deliver,
            interval=batch_interval,
            connect_timeout=connect_timeout,
            retry_initial=retry_initial,
            retry_max=retry_max,
        )
        self._aggregator.on_register = self.start
        self._closed = False
        _STORAGES.add(self)

    # Recording -------------------------------------------------------------------------------

    def record_route_metric(
        self,
        route: str,
        method: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None:
        self._aggregator.record_route(route, method, success, duration_ms, at)
        if self._closed:
            _STORAGES.add(self)

    def record_operation_metric(
        self,
        operation: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None:
        self._aggregator.record_operation(operation, success, duration_ms, at)
        if self._closed:
            _STORAGES.add(self)

    @property
    def overflowed_events(self) -> int:
        """Events counted under ``__overflow__`` because their key was past the cap."""
        return self._aggregator.limiter.overflowed_events

    @property
    def pending_batches(self) -> int:
        """Batches waiting for the database (0 or 1 normally; 2 after a failure mid-send)."""
        return self._flusher.pending_batches()

    @property
    def rejected_batches(self) -> int:
        """Batches (and parts of batches) the database refused as invalid, each logged: a
        refused batch is split until the cells at fault are alone; 0 unless something is wrong."""
        return self._flusher.rejected_batches

    @property
    def dropped_cells(self) -> int:
        """Cells dropped because the database refused them alone (each logged with its key)."""
        return self._flusher.dropped_cells

    # Delivery --------------------------------------------------------------------------------

    def _get_pool(self) -> Pool:
        pool = self._pool
        if pool is not None:
            return pool
        with self._pool_lock:
            if self._pool is None:
                assert self._conninfo is not None  # noqa: S101 - a storage has a DSN or a pool
                self._pool = psycopg_pool.ConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=2,
                    open=False,
                    name="pgmetrics",
                    # No check on checkout: a broken connection fails the send, the pool replaces
                    # it, and the batch is sent again under its id after a short backoff.
                    kwargs={"autocommit": True},
                )
                self._pool.open(wait=False)
            return self._pool

    def _drop_owned_pool(self) -> None:
        """After a failed send, an owned pool is replaced by a new one at the next attempt.

        A pool retries a dead server with doubling delays (1, 2, 4 ... s), so after a long outage
        its next attempt could come a minute after the database is back, and a process exiting
        meanwhile would lose what it holds. A new pool connects at once: the flusher's own
        backoff, capped at retry_max, sets the pace.
        """
        if not self._owns_pool:
            return
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(timeout=0)

    def _send(self, batch: Batch, connect_timeout: float) -> Outcome:
        reached = False
        try:
            pool = self._get_pool()
            with pool.connection(timeout=connect_timeout) as conn, conn.transaction():
                params = {
                    "batch_id": batch.batch_id,
                    "routes": Jsonb(route_cells_json(batch.routes)),
                    "operations": Jsonb(operation_cells_json(batch.operations)),
                }
                # From here on the database may commit the batch: its content is frozen.
                batch.sealed = reached = True
                row = conn.execute(queries.INGEST_BATCH, params).fetchone()
        except Exception as exc:
            error = from_psycopg(exc)
            if isinstance(error, BatchRejectedError) and reached:
                # A data error, not a fault: the message says all, a traceback would not help.
                logger.error(  # noqa: TRY400
                    "pgmetrics: batch %s rejected by the database (%d route and "
                    "%d operation cells): %s",
                    batch.batch_id,
                    len(batch.routes),
                    len(batch.operations),
                    error,
                )
                return Outcome.REJECTED
            logger.warning(
                "pgmetrics: batch %s not delivered, will retry: %s", batch.batch_id, error
            )
            self._drop_owned_pool()
            return Outcome.UNKNOWN if reached else Outcome.NOT_SENT
        if row is not None and row[0] is False:
            logger.info("pgmetrics: batch %s had been applied already", batch.batch_id)
        return Outcome.DELIVERED

    def _deliver(self, batch: Batch, connect_timeout: float) -> Outcome:
        outcome = self._send(batch, connect_timeout)
        if self._spool is not None and outcome in (Outcome.DELIVERED, Outcome.REJECTED):
            # Delivered, or refused and split into new batches held in memory: either way its
            # file has served.
            self._spool.release(batch.batch_id)
        return outcome

    def start(self) -> None:
        """Starts delivery without waiting for a first record (each thread's first record calls
        it too): claims the batches left in the spool by processes that exited, starts the
        flusher thread, and puts the SIGTERM handler in place (from the main thread)."""
        if self._spool is not None and not self._spool_claimed:
            with self._start_lock:
                if not self._spool_claimed:
                    self._spool_claimed = True
                    self._claim_spool(self._spool)
        self._flusher.ensure_started()
        shutdown.register(self)

    def _claim_spool(self, spool: Spool) -> None:
        try:
            batches = spool.claim()
        except OSError as exc:
            logger.error("pgmetrics: the spool %s cannot be read: %s", spool.path, exc)  # noqa: TRY400
            return
        if batches:
            logger.info(
                "pgmetrics: delivering %d batch(es), %d events, left in the spool %s",
                len(batches),
                sum(batch_events(batch) for batch in batches),
                spool.path,
            )
            self._flusher.add_sealed(batches)

    def drain(self, timeout: float | None = None, *, reason: str = "shutdown") -> bool:
        """Delivers everything held now, retrying for up to ``timeout`` seconds (default
        ``shutdown_timeout``); what the database has not taken by then is written to the spool
        when there is one. Logs what could not be delivered, with its numbers. The storage stays
        usable. True when everything was delivered."""
        if timeout is None:
            timeout = self.shutdown_timeout
        if self._flusher.flush(timeout):
            return True
        self._spool_rest(reason)
        return False

    def _held(self) -> Batch:
        """Copies of every undelivered cell, as one batch to count."""
        routes: RouteCells = {}
        operations: OperationCells = {}
        self._flusher.pending_cells(routes, operations)
        return Batch(routes, operations)

    def _spool_rest(self, reason: str) -> None:
        """Writes what is still undelivered to the spool, or logs what is lost without one."""
        spool = self._spool
        if spool is None:
            held = self._held()
            logger.error(
                "pgmetrics: at %s, %d events (%d cells) are not delivered; without a spool "
                "directory (OBSERVABILITY_METRICS_SPOOL_DIR) they are lost when this process ends",
                reason,
                batch_events(held),
                batch_cells(held),
            )
            return
        # A send in progress ends within the connect timeout when the database is down (the
        # pool waits that long for a connection): wait for it rather than spool nothing.
        wait = self._flusher.connect_timeout + 1.0
        batches = self._flusher.take_pending(wait)
        if batches is None:
            held = self._held()
            logger.error(
                "pgmetrics: at %s, a send did not end within %.1f s: %d events (%d cells) "
                "were not spooled and are lost when this process ends",
                reason,
                wait,
                batch_events(held),
                batch_cells(held),
            )
            return
        if not batches:
            return
        try:
            result = spool.write(batches)
        except OSError as exc:
            logger.error(  # noqa: TRY400
                "pgmetrics: at %s, %d events (%d cells) could not be written to the spool %s "
                "and are lost: %s",
                reason,
                sum(batch_events(batch) for batch in batches),
                sum(batch_cells(batch) for batch in batches),
                spool.path,
                exc,
            )
            return
        if result.batches:
            logger.warning(
                "pgmetrics: at %s, %d events (%d cells, %d batch(es)) not delivered were written "
                "to the spool %s; the next process started with it delivers them",
                reason,
                result.events,
                result.cells,
                result.batches,
                spool.path,
            )
        if result.overflow_batches:
            self.spool_overflowed_events += result.overflow_events
            logger.error(
                "pgmetrics: at %s, the spool %s is full (%d bytes): %d events (%d cells, "
                "%d batch(es)) are lost (%d lost to a full spool so far)",
                reason,
                spool.path,
                spool.max_bytes,
                result.overflow_events,
                result.overflow_cells,
                result.overflow_batches,
                self.spool_overflowed_events,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Sends everything recorded so far now. With ``timeout`` (seconds) retries until
        delivered or the time is up; without, makes one attempt. True when all is delivered."""
        return self._flusher.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stops the flusher and delivers what is left, retrying for up to ``timeout`` seconds
        (default ``shutdown_timeout``); closes the pool if this storage opened it."""
        if timeout is None:
            timeout = self.shutdown_timeout
        self._closed = True
        if not self._flusher.close(timeout):
            self._spool_rest("close")
        # A record after this puts the storage back with those interpreter exit delivers.
        _STORAGES.discard(self)
        if self._owns_pool:
            with self._pool_lock:
                pool, self._pool = self._pool, None
            if pool is not None:
                pool.close(timeout=1.0)

    def _after_fork_in_child(self) -> None:
        self._flusher.after_fork_in_child()
        if self._spool is not None:
            self._spool.after_fork_in_child()
        # The child may claim what the spool holds: the parent's claims stay the parent's.
        self._spool_claimed = False
        self._start_lock = threading.Lock()
        if self._owns_pool:
            # The parent's connections and pool threads are the parent's: never touch them.
            if self._pool is not None:
                _INHERITED_POOLS.append(self._pool)
            self._pool = None
        self._pool_lock = threading.Lock()

    # Reading ---------------------------------------------------------------------------------

    def _unflushed(self) -> tuple[RouteCells, OperationCells]:
        routes: RouteCells = {}
        operations: OperationCells = {}
        self._flusher.pending_cells(routes, operations)
        return routes, operations

    def _query(self, query: Any, params: dict[str, object]) -> list[dict[str, Any]]:
        pool = self._get_pool()
        with (
            pool.connection(timeout=self.read_timeout) as conn,
            conn.cursor(row_factory=dict_row) as cursor,
        ):
            rows: list[dict[str, Any]] = cursor.execute(query, params).fetchall()
        return rows

    def get_route_metrics(
        self,
        route: str | None = None,
        method: str | None = None,
        time_range: TimeRange | None = None,
        bucket: str = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[RouteMetrics]:
        method, time_range, bucket, zone = read_filters(method, time_range, bucket, tz)
        if route is not None:
            check_name("route", route)
        unflushed = route_rows(self._unflushed()[0], route, method, time_range, bucket, zone)
        try:
            stored = [
                _route_row(row, zone)
                for row in self._query(
                    queries.ROUTE_METRICS_SUMMARY,
                    {
                        "start": time_range.start if time_range else EARLIEST,
                        "end": time_range.end if time_range else LATEST,
                        "bucket": bucket,
                        "route": route,
                        "method": method,
                        "tz": tz,
                    },
                )
            ]
        except (psycopg.Error, psycopg_pool.PoolTimeout, OSError) as exc:
            error = from_psycopg(exc)
            logger.warning("pgmetrics: route metrics read from memory: %s", error)
            return MetricsReport(tuple(unflushed), "memory", str(error))
        return MetricsReport(tuple(add_route_rows(stored, unflushed)), "database")

    def get_operation_metrics(
        self,
        operation: str | None = None,
        time_range: TimeRange | None = None,
        bucket: str = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[OperationMetrics]:
        _, time_range, bucket, zone = read_filters(None, time_range, bucket, tz)
        if operation is not None:
            check_name("operation", operation)
        unflushed = operation_rows(self._unflushed()[1], operation, time_range, bucket, zone)
        try:
            stored = [
                _operation_row(row, zone)
                for row in self._query(
                    queries.OPERATION_METRICS_SUMMARY,
                    {
                        "start": time_range.start if time_range else EARLIEST,
                        "end": time_range.end if time_range else LATEST,
                        "bucket": bucket,
                        "operation": operation,
                        "tz": tz,
                    },
                )
            ]
        except (psycopg.Error, psycopg_pool.PoolTimeout, OSError) as exc:
            error = from_psycopg(exc)
            logger.warning("pgmetrics: operation metrics read from memory: %s", error)
            return MetricsReport(tuple(unflushed), "memory", str(error))
        return MetricsReport(tuple(add_operation_rows(stored, unflushed)), "database")


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _figures(row: dict[str, Any]) -> dict[str, Any]:
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


def _bucket(value: datetime, zone: Any) -> datetime:
    return value.astimezone(zone)


def _route_row(row: dict[str, Any], zone: Any) -> RouteMetrics:
    return RouteMetrics(
        bucket_start=_bucket(row["bucket_start"], zone),
        route=row["route"],
        method=row["method"],
        total_requests=int(row["total_requests"]),
        last_request_at=row["last_request_at"],
        **_figures(row),
    )


def _operation_row(row: dict[str, Any], zone: Any) -> OperationMetrics:
    return OperationMetrics(
        bucket_start=_bucket(row["bucket_start"], zone),
        operation=row["operation"],
        total_executions=int(row["total_executions"]),
        last_execution_at=row["last_execution_at"],
        **_figures(row),
    )


_STORAGES: weakref.WeakSet[DatabaseMetricsStorage] = weakref.WeakSet()
_INHERITED_POOLS: list[Pool] = []


def _after_fork_in_child() -> None:
    for storage in list(_STORAGES):
        storage._after_fork_in_child()


def _close_all() -> None:
    """At interpreter exit every open storage delivers what is left, for its shutdown timeout."""
    for storage in list(_STORAGES):
        try:
            storage.close()
        except Exception:
            logger.exception("pgmetrics: closing a storage at exit failed")


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all)
