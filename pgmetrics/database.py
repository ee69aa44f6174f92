"""DatabaseMetricsStorage: aggregates in memory, delivers batches to PostgreSQL exactly once."""

from __future__ import annotations

import os
from typing import Any

import psycopg_pool

from pgmetrics import lifecycle, shutdown
from pgmetrics.aggregator import Aggregator
from pgmetrics.checks import ReadFilter, check_seconds
from pgmetrics.delivery import Delivery
from pgmetrics.flusher import Batch, Flusher, Outcome
from pgmetrics.handoff import SpoolHandoff
from pgmetrics.pools import Pools
from pgmetrics.reads import Reader
from pgmetrics.spool import DEFAULT_MAX_BYTES, Spool
from pgmetrics.storage import BaseMetricsStorage
from pgmetrics.types import MetricsReport, OperationMetrics, RouteMetrics

Pool = psycopg_pool.ConnectionPool[Any]

# An attempt that found its connection gets this long beyond statement_timeout for the server's
# own cancellation to come back before the client-side deadline ends it.
_DEADLINE_GRACE = 1.0


class DatabaseMetricsStorage(BaseMetricsStorage):
    """Records into per-thread in-memory cells; a daemon thread sends them every ``batch_interval``
    seconds as one ``pgmetrics.ingest_batch`` call and retries failed batches under their id.

    ``database`` is a DSN (the storage then owns two small pools, one for delivery and one for
    reads, opened at the first use, never in the constructor) or a caller's open
    ``psycopg_pool.ConnectionPool``, used for both and never closed here.
    Reads call the summary functions and add what this process has not delivered yet; when the
    database cannot answer they answer from that memory alone, with ``source="memory"``.

    ``read_database``, a DSN (a hot standby), takes the reads: recording still goes to
    ``database``. A read the replica cannot serve goes to the primary, then to memory. Batches
    the primary acknowledged are kept (up to ``max_cells`` cells) until a read on the replica
    shows them replayed, and counted from memory until then. After the replica could not be
    reached, reads go to the primary for ``retry_max`` seconds before it is tried again.

    Nothing waits on the database without a bound. ``connect_timeout`` bounds a connection (and
    the wait for one from a pool); ``statement_timeout`` a delivery, ``read_timeout`` a read,
    both enforced by the server and, for a path that stopped answering, by the client, which
    shuts the connection down. TCP keepalives (``keepalives_*``) and ``tcp_user_timeout``
    (libpq's parameters, in seconds here) let the kernel notice a peer that vanished. A
    parameter the DSN sets itself is left as it is. Memory holds at most ``max_cells``
    (key, hour) cells across all hours, and a batch carries at most ``max_batch_cells``.

    The storage composes the connection pools (``pgmetrics.pools``), delivery
    (``pgmetrics.delivery``), the flusher thread (``pgmetrics.flusher``), the spool hand-off
    (``pgmetrics.handoff``), reads (``pgmetrics.reads``) and the ends of the process
    (``pgmetrics.lifecycle``, ``pgmetrics.shutdown``).
    """

    def __init__(
        self,
        database: str | Pool,
        *,
        batch_interval: float = 5.0,
        max_keys: int = 10_000,
        shutdown_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        statement_timeout: float = 30.0,
        tcp_user_timeout: float = 30.0,
        keepalives_idle: float = 30.0,
        keepalives_interval: float = 10.0,
        keepalives_count: int = 3,
        max_cells: int = 100_000,
        max_batch_cells: int = 5_000,
        fold_interval: float = 60.0,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = DEFAULT_MAX_BYTES,
        read_database: str | None = None,
    ) -> None:
        batch_interval = check_seconds("batch_interval", batch_interval, 0.001)
        self.shutdown_timeout = check_seconds("shutdown_timeout", shutdown_timeout, 0)
        self.fold_interval = check_seconds("fold_interval", fold_interval, 0)
        self.connect_timeout = check_seconds("connect_timeout", connect_timeout, 0.001)
        self.read_timeout = check_seconds("read_timeout", read_timeout, 0.001)
        self.statement_timeout = check_seconds("statement_timeout", statement_timeout, 0.001)
        retry_initial = check_seconds("retry_initial", retry_initial, 0.001)
        retry_max = check_seconds("retry_max", retry_max, 0.001)
        self._pools = Pools(
            database,
            connect_timeout=self.connect_timeout,
            statement_timeout=self.statement_timeout,
            read_timeout=self.read_timeout,
            tcp_user_timeout=tcp_user_timeout,
            keepalives_idle=keepalives_idle,
            keepalives_interval=keepalives_interval,
            keepalives_count=keepalives_count,
            read_database=read_database,
        )
        self._aggregator = Aggregator(max_keys, max_cells)
        self._delivery = Delivery(
            self._pools, fold_interval=self.fold_interval, on_outcome=self._on_outcome
        )
        self._flusher = Flusher(
            self._aggregator,
            self._delivery.deliver,
            interval=batch_interval,
            send_timeout=self.connect_timeout + self.statement_timeout + _DEADLINE_GRACE,
            retry_initial=retry_initial,
            retry_max=retry_max,
            max_batch_cells=max_batch_cells,
        )
        self._reader = Reader(
            self._pools, self._flusher, max_cells=max_cells, replica_retry=retry_max
        )
        self._handoff = SpoolHandoff(
            None if spool_dir is None else Spool(spool_dir, spool_max_bytes),
            self._flusher,
            connect_timeout=self.connect_timeout,
            cut_in_flight=self._delivery.cut_in_flight,
        )
        # The flusher thread claims the spool, so that no record waits for it.
        self._flusher.on_start = self._handoff.claim
        self._aggregator.on_register = self.start
        self._started = False
        self._closed = False
        lifecycle.add(self)

    def _recorded_after_close(self) -> None:
        # Interpreter exit (and SIGTERM) delivers what this record added.
        lifecycle.add(self)
        shutdown.register(self)

    @property
    def held_cells(self) -> int:
        """Cells waiting in pending batches for the database."""
        return self._flusher.held_cells()

    @property
    def pending_batches(self) -> int:
        """Batches waiting for the database: 0 or 1 normally; more after a failure mid-send, or
        when what is held exceeds ``max_batch_cells``."""
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

    @property
    def spool_overflowed_events(self) -> int:
        """Events lost because the spool was full when they had to be written there."""
        return self._handoff.overflowed_events

    def connection_string(self, statement_timeout: float, conninfo: str | None = None) -> str:
        """The DSN (``conninfo``, by default the storage's) with pgmetrics' timeouts and
        keepalives added where it sets none itself, and ``statement_timeout`` (seconds) for the
        server; what the storage's own pools use."""
        return self._pools.connection_string(statement_timeout, conninfo)

    def _on_outcome(self, batch: Batch, outcome: Outcome) -> None:
        if outcome is Outcome.DELIVERED and self._reader.unreplayed is not None:
            # Kept before the flusher lets the batch go, so that a read always finds it in one
            # place or the other.
            self._reader.unreplayed.add(batch)
        if outcome in (Outcome.DELIVERED, Outcome.REJECTED):
            self._handoff.release(batch)

    def start(self) -> None:
        """Starts delivery without waiting for a first record (each thread's first record calls
        it too): starts the flusher thread, which claims the batches left in the spool by
        processes that exited, and puts the SIGTERM handler in place (from the main thread)."""
        self._started = True
        self._flusher.ensure_started()
        shutdown.register(self)

    def drain(self, timeout: float | None = None, *, reason: str = "shutdown") -> bool:
        """Delivers everything held now, retrying for up to ``timeout`` seconds (default
        ``shutdown_timeout``); what the database has not taken by then is written to the spool
        when there is one. Logs what could not be delivered, with its numbers. The storage stays
        usable. True when everything was delivered."""
        if timeout is None:
            timeout = self.shutdown_timeout
        if self._flusher.flush(timeout):
            return True
        self._handoff.write_rest(reason)
        return False

    def flush(self, timeout: float | None = None) -> bool:
        """Sends everything recorded so far now, and what the spool holds. With ``timeout``
        (seconds) retries until delivered or the time is up, and returns by then; without, makes
        one attempt at each pending batch, each bounded by the connection and statement
        timeouts. True when all is delivered."""
        self._handoff.claim()
        if timeout is not None:
            self._delivery.cut_in_flight(timeout)
        return self._flusher.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stops the flusher and delivers what is left, retrying for up to ``timeout`` seconds
        (default ``shutdown_timeout``); closes the pools if this storage opened them. The storage
        leaves the SIGTERM and exit targets; a record after this puts it back."""
        if timeout is None:
            timeout = self.shutdown_timeout
        self._closed = self._delivery.closed = True
        if self._started:
            # A claim under way in the flusher thread ends first: what it claimed is delivered
            # now or written back. A storage that never started leaves the spool alone.
            self._handoff.claim()
        self._delivery.cut_in_flight(timeout)
        if not self._flusher.close(timeout):
            self._handoff.write_rest("close")
        lifecycle.discard(self)
        shutdown.unregister(self)
        self._pools.close(timeout)

    def _after_fork_in_child(self) -> None:
        self._started = False
        self._flusher.after_fork_in_child()
        self._handoff.after_fork_in_child()
        self._pools.after_fork_in_child()
        self._reader.after_fork_in_child()
        self._delivery.after_fork_in_child()

    def _route_report(self, read: ReadFilter) -> MetricsReport[RouteMetrics]:
        return self._reader.route_report(read)

    def _operation_report(self, read: ReadFilter) -> MetricsReport[OperationMetrics]:
        return self._reader.operation_report(read)
