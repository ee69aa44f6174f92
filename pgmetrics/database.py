"""DatabaseMetricsStorage: aggregates in memory, delivers batches to PostgreSQL exactly once."""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from pgmetrics import queries, shutdown
from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import OperationCells, RouteCells, merge_cells
from pgmetrics.checks import ReadFilter, check_seconds
from pgmetrics.deadline import Deadline, deadline
from pgmetrics.errors import BatchRejectedError, DatabaseUnavailableError, from_psycopg
from pgmetrics.flusher import Batch, Flusher, Outcome
from pgmetrics.spool import DEFAULT_MAX_BYTES, Spool
from pgmetrics.spool import cells as batch_cells
from pgmetrics.spool import events as batch_events
from pgmetrics.storage import BaseMetricsStorage
from pgmetrics.summary import operation_rows, route_rows
from pgmetrics.times import EARLIEST, LATEST
from pgmetrics.types import MetricsReport, OperationMetrics, RouteMetrics
from pgmetrics.unflushed import add_operation_rows, add_route_rows
from pgmetrics.wire import CellArray, CellArrayDumper, operation_cell_array, route_cell_array

logger = logging.getLogger("pgmetrics")


Pool = psycopg_pool.ConnectionPool[Any]

# An attempt that found its connection gets this long beyond statement_timeout for the server's
# own cancellation to come back before the client-side deadline ends it.
_DEADLINE_GRACE = 1.0
# The client never waits between the statements of its transactions, beyond building a batch.
_IDLE_IN_TRANSACTION_MS = 5000


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
        self._lock = threading.Lock()
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


def _is_connection_failure(exc: BaseException) -> bool:
    """No answer came from the server (as opposed to an error it sent): the connection is gone."""
    if isinstance(exc, psycopg_pool.PoolTimeout | OSError):
        return True
    return isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None


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
        if batch_interval <= 0:
            raise ValueError(f"batch_interval must be > 0 seconds, got {batch_interval}")
        if shutdown_timeout < 0:
            raise ValueError(f"shutdown_timeout must be >= 0 seconds, got {shutdown_timeout}")
        self.connect_timeout = check_seconds("connect_timeout", connect_timeout, 0.001)
        self.read_timeout = check_seconds("read_timeout", read_timeout, 0.001)
        self.statement_timeout = check_seconds("statement_timeout", statement_timeout, 0.001)
        self._keepalives = {
            "keepalives": 1,
            "keepalives_idle": math.ceil(check_seconds("keepalives_idle", keepalives_idle, 1)),
            "keepalives_interval": math.ceil(
                check_seconds("keepalives_interval", keepalives_interval, 1)
            ),
            "keepalives_count": int(check_seconds("keepalives_count", keepalives_count, 1)),
            "tcp_user_timeout": math.ceil(
                check_seconds("tcp_user_timeout", tcp_user_timeout, 0) * 1000
            ),
        }
        if isinstance(database, str):
            self._conninfo: str | None = database
            self._pool: Pool | None = None
        else:
            self._conninfo = None
            self._pool = database
        # Reads have their own pool, so that a slow summary never delays delivery.
        self._read_pool: Pool | None = None
        if read_database is not None and (not isinstance(read_database, str) or not read_database):
            raise ValueError(f"read_database must be a non-empty DSN, got {read_database!r}")
        # Reads go there first (a hot standby), falling back to the primary's read pool.
        self._replica_conninfo = read_database
        self._replica_pool: Pool | None = None
        # After the replica could not be reached, reads go to the primary until this moment
        # (time.monotonic()), rather than each waiting connect_timeout for it first.
        self._replica_retry_at = 0.0
        self._replica_retry = retry_max
        self._unreplayed = None if read_database is None else _Unreplayed(max_cells)
        self._owns_pool = self._conninfo is not None
        self._pool_lock = threading.Lock()
        self._in_flight: Deadline | None = None
        self.shutdown_timeout = shutdown_timeout
        if fold_interval < 0:
            raise ValueError(f"fold_interval must be >= 0 seconds, got {fold_interval}")
        self.fold_interval = fold_interval
        self._last_fold = time.monotonic()
        self._aggregator = Aggregator(max_keys, max_cells)
        self._spool = None if spool_dir is None else Spool(spool_dir, spool_max_bytes)
        self._spool_claimed = False
        self._start_lock = threading.Lock()
        self.spool_overflowed_events = 0
        self._flusher = Flusher(
            self._aggregator,
            self._deliver,
            interval=batch_interval,
            send_timeout=self.connect_timeout + self.statement_timeout + _DEADLINE_GRACE,
            retry_initial=retry_initial,
            retry_max=retry_max,
            max_batch_cells=max_batch_cells,
        )
        self._aggregator.on_register = self.start
        self._closed = False
        _STORAGES.add(self)

    def _recorded_after_close(self) -> None:
        # Interpreter exit delivers what this record added.
        _STORAGES.add(self)

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

    # Delivery --------------------------------------------------------------------------------

    def connection_string(self, statement_timeout: float, conninfo: str | None = None) -> str:
        """The DSN (``conninfo``, by default the storage's) with pgmetrics' timeouts and
        keepalives added where it sets none itself, and ``statement_timeout`` (seconds) for the
        server; what the storage's own pools use."""
        if conninfo is None:
            conninfo = self._conninfo
        if conninfo is None:
            raise ValueError("a storage built on a caller's pool has no connection string")
        params: dict[str, Any] = conninfo_to_dict(conninfo)
        ours: dict[str, Any] = {
            "connect_timeout": max(2, math.ceil(self.connect_timeout)),  # libpq's least is 2
            **self._keepalives,
        }
        for name, value in ours.items():
            params.setdefault(name, value)
        milliseconds = max(1, math.ceil(statement_timeout * 1000))
        # idle_in_transaction_session_timeout ends a transaction whose client vanished between
        # its statements (after ingest_batch ran, before COMMIT), which would otherwise keep the
        # locks that a resend of its batch waits for until the server's TCP stack gives up.
        server = (
            f"-c statement_timeout={milliseconds} "
            f"-c idle_in_transaction_session_timeout={_IDLE_IN_TRANSACTION_MS}"
        )
        # The DSN's own options come after ours: where both set a parameter, the DSN's wins.
        params["options"] = f"{server} {params['options']}" if params.get("options") else server
        return make_conninfo(**params)

    def _get_pool(self, *, read: bool = False) -> Pool:
        pool = self._read_pool if read and self._owns_pool else self._pool
        if pool is not None:
            return pool
        with self._pool_lock:
            if read and self._owns_pool:
                if self._read_pool is None:
                    self._read_pool = self._new_pool("pgmetrics-read", self.read_timeout)
                return self._read_pool
            if self._pool is None:
                self._pool = self._new_pool("pgmetrics", self.statement_timeout)
            return self._pool

    def _get_replica_pool(self, conninfo: str) -> Pool:
        pool = self._replica_pool
        if pool is not None:
            return pool
        with self._pool_lock:
            if self._replica_pool is None:
                self._replica_pool = self._new_pool(
                    "pgmetrics-replica", self.read_timeout, conninfo
                )
            return self._replica_pool

    def _new_pool(self, name: str, statement_timeout: float, conninfo: str | None = None) -> Pool:
        pool: Pool = psycopg_pool.ConnectionPool(
            self.connection_string(statement_timeout, conninfo),
            min_size=1,
            max_size=2,
            open=False,
            name=name,
            timeout=self.connect_timeout,
            # No check on checkout: a broken connection fails the send, the pool replaces
            # it, and the batch is sent again under its id after a short backoff.
            kwargs={"autocommit": True},
        )
        pool.open(wait=False)
        return pool

    def _drop_owned_read_pool(self) -> None:
        """After a read lost its connection, as ``_drop_owned_pool`` after a failed send: the
        other connections of the pool may have died with it."""
        if not self._owns_pool:
            return
        with self._pool_lock:
            pool, self._read_pool = self._read_pool, None
        if pool is not None:
            pool.close(timeout=0)

    def _drop_replica_pool(self) -> None:
        with self._pool_lock:
            pool, self._replica_pool = self._replica_pool, None
        if pool is not None:
            pool.close(timeout=0)

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

    def _send(self, batch: Batch, timeout: float) -> Outcome:
        """One attempt at delivering ``batch``, over in ``timeout`` seconds whatever happens."""
        reached = False
        refused: psycopg.Error | None = None  # the server's error inside the transaction
        end = time.monotonic() + timeout
        try:
            pool = self._get_pool()
            with (
                pool.connection(timeout=min(self.connect_timeout, timeout)) as conn,
                deadline(conn, end) as self._in_flight,
                conn.transaction(),
            ):
                conn.adapters.register_dumper(CellArray, CellArrayDumper)
                oids = conn.execute(queries.CELL_TYPES).fetchone()
                assert oids is not None  # noqa: S101 - one row, always
                params = {
                    "batch_id": batch.batch_id,
                    "routes": route_cell_array(batch.routes, oids[0]),
                    "operations": operation_cell_array(batch.operations, oids[1]),
                }
                xid = conn.execute(queries.CURRENT_XACT_ID).fetchone()
                batch.xids.append(str(xid[0]) if xid else "")
                # From here on the database may commit the batch: its content is frozen.
                batch.sealed = reached = True
                try:
                    row = conn.execute(queries.INGEST_BATCH, params).fetchone()
                except psycopg.Error as exc:
                    if conn.info.transaction_status is TransactionStatus.INERROR:
                        refused = exc  # the transaction can only roll back: nothing committed
                    raise
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
            if refused is not None:
                if isinstance(refused, psycopg.errors.QueryCanceled):
                    return Outcome.CANCELLED
                return Outcome.ROLLED_BACK
            self._drop_owned_pool()
            return Outcome.UNKNOWN if reached else Outcome.NOT_SENT
        finally:
            self._in_flight = None
        if row is not None and row[0] is False:
            logger.info("pgmetrics: batch %s had been applied already", batch.batch_id)
        self._fold_now_and_then(end)
        return Outcome.DELIVERED

    def _fold_now_and_then(self, end: float) -> None:
        """Every ``fold_interval`` seconds, moves the staged cells into the tiers (fold_events),
        so that reads stay cheap without pg_cron, within what is left of the attempt's time. A
        fold already running elsewhere is skipped; a failure or a cut only delays the next one:
        the cells stay staged and counted."""
        now = time.monotonic()
        if self._closed or not self.fold_interval or now - self._last_fold < self.fold_interval:
            return
        if end - now < 1.0:
            return
        self._last_fold = now
        try:
            with (
                self._get_pool().connection(timeout=min(self.connect_timeout, end - now)) as conn,
                deadline(conn, end) as self._in_flight,
            ):
                conn.execute(queries.FOLD_EVENTS)
        except Exception as exc:  # the delivery itself succeeded: a failed fold only waits
            logger.info(
                "pgmetrics: fold_events failed, the cells stay staged: %s", from_psycopg(exc)
            )
        finally:
            self._in_flight = None

    def _cut_in_flight(self, timeout: float) -> None:
        """A delivery under way on a connection that stopped answering would hold the send lock
        until its own deadline: it ends by half of ``timeout``, leaving the other half to send
        again over a new connection."""
        watch = self._in_flight
        if watch is not None:
            watch.bring_forward(time.monotonic() + max(0.0, timeout) / 2)

    def _deliver(self, batch: Batch, connect_timeout: float) -> Outcome:
        outcome = self._send(batch, connect_timeout)
        if outcome is Outcome.DELIVERED and self._unreplayed is not None:
            # Kept before the flusher lets the batch go, so that a read always finds it in one
            # place or the other.
            self._unreplayed.add(batch)
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
        # pool waits that long for a connection), and is cut by then otherwise: wait for it
        # rather than spool nothing.
        wait = self.connect_timeout + 1.0
        self._cut_in_flight(2 * self.connect_timeout)
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
        delivered or the time is up, and returns by then; without, makes one attempt at each
        pending batch, each bounded by the connection and statement timeouts. True when all is
        delivered."""
        if timeout is not None:
            self._cut_in_flight(timeout)
        return self._flusher.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stops the flusher and delivers what is left, retrying for up to ``timeout`` seconds
        (default ``shutdown_timeout``); closes the pool if this storage opened it."""
        if timeout is None:
            timeout = self.shutdown_timeout
        self._closed = True
        self._cut_in_flight(timeout)
        if not self._flusher.close(timeout):
            self._spool_rest("close")
        # A record after this puts the storage back with those interpreter exit delivers.
        _STORAGES.discard(self)
        with self._pool_lock:
            pools = [self._replica_pool]
            self._replica_pool = None
            if self._owns_pool:
                pools += [self._pool, self._read_pool]
                self._pool = self._read_pool = None
        for pool in pools:
            if pool is not None:
                # Connections are closed without waiting: a dead path answers no goodbye.
                pool.close(timeout=0)

    def _after_fork_in_child(self) -> None:
        self._flusher.after_fork_in_child()
        if self._spool is not None:
            self._spool.after_fork_in_child()
        # The child may claim what the spool holds: the parent's claims stay the parent's.
        self._spool_claimed = False
        self._start_lock = threading.Lock()
        if self._owns_pool:
            # The parent's connections and pool threads are the parent's: never touch them.
            for pool in (self._pool, self._read_pool):
                if pool is not None:
                    _INHERITED_POOLS.append(pool)
            self._pool = self._read_pool = None
        if self._replica_pool is not None:
            _INHERITED_POOLS.append(self._replica_pool)
            self._replica_pool = None
        if self._unreplayed is not None:
            # What the parent delivered is the parent's to count.
            self._unreplayed = _Unreplayed(self._unreplayed.max_cells)
        self._pool_lock = threading.Lock()
        self._in_flight = None

    # Reading ---------------------------------------------------------------------------------

    def _read(
        self, query: Any, params: dict[str, object]
    ) -> tuple[list[dict[str, Any]] | None, Exception | None, RouteCells, OperationCells]:
        """The summary rows of ``query`` and the cells the database did not count in them,
        each event once; when the database cannot answer within ``read_timeout``: None, the
        error, and every cell not delivered.

        With a read replica the read goes there first; when the replica cannot answer, or has
        not replayed what this process no longer holds, it goes to the primary (each attempt
        bounded by ``read_timeout``).
        """
        replica = self._replica_conninfo
        if replica is not None and time.monotonic() >= self._replica_retry_at:
            try:
                rows, routes, operations = self._read_at(query, params, replica)
            except (psycopg.Error, psycopg_pool.PoolTimeout, OSError, _ReplicaBehindError) as exc:
                if _is_connection_failure(exc):
                    self._drop_replica_pool()
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
            if _is_connection_failure(exc):
                self._drop_owned_read_pool()
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
        end = time.monotonic() + self.read_timeout
        unreplayed = self._unreplayed
        with (
            self._flusher.reading() as undelivered,
            contextlib.nullcontext() if unreplayed is None else unreplayed.reading(),
        ):
            pool = self._get_pool(read=True) if replica is None else self._get_replica_pool(replica)
            with (
                # A connection that cannot be had within connect_timeout will not come.
                pool.connection(timeout=min(self.connect_timeout, self.read_timeout)) as conn,
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

    def _route_report(self, read: ReadFilter) -> MetricsReport[RouteMetrics]:
        rows, exc, cells, _ = self._read(
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

    def _operation_report(self, read: ReadFilter) -> MetricsReport[OperationMetrics]:
        rows, exc, _, cells = self._read(
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
