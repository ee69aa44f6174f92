"""The pending batches of a database storage and the daemon thread that delivers them.

Every batch interval the flusher moves what the threads aggregated into a batch with a fresh id
and sends the pending batches in order. A batch that never reached the database (no connection
could be had) keeps absorbing new cells, so an outage holds one batch per ``max_batch_cells``
cells, not one per interval. Once a send has begun the batch is sealed: its id and content never
change again, and it is sent again as it is until the database acknowledges it, which
``pgmetrics.ingest_batch`` does exactly once.

A batch the database refuses for its content (a poison batch) wrote nothing, so its cells can be
sent again in parts: it is split in two halves, each under a new id, sent like any batch, and split
again while refused, until the cells at fault are alone. Those are dropped, counted and logged; the
rest is delivered exactly once.

A batch holds at most ``max_batch_cells`` cells: a backlog goes out as several batches, each under
its own id. An attempt the database refused inside its transaction (which rolled back) committed
nothing; when no earlier attempt of the batch is in doubt, the batch may then change: cancelled
by ``statement_timeout`` it is split in two halves under new ids, so that a batch too large for
the timeout is not sent again as it is forever.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pgmetrics import shutdown
from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import Cell, OperationCells, RouteCells, merge_cell, merge_cells

logger = logging.getLogger("pgmetrics")

_MIN_CONNECT_TIMEOUT = 0.1


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # applied now, or acknowledged as applied before
    NOT_SENT = "not sent"  # never reached the database: the batch may still grow
    UNKNOWN = "unknown"  # may or may not be committed: send the sealed batch again
    REJECTED = "rejected"  # the database refused it as invalid; sending it again cannot help
    ROLLED_BACK = "rolled back"  # an error inside the transaction: this attempt committed nothing
    CANCELLED = "cancelled"  # as ROLLED_BACK, by a statement timeout: smaller parts may pass


@dataclass(eq=False)
class Batch:
    routes: RouteCells
    operations: OperationCells
    batch_id: uuid.UUID = field(default_factory=uuid.uuid4)
    sealed: bool = False
    # The transaction ids of the attempts that sent it, so that a read can ask the database,
    # in its own snapshot, whether one of them committed (then the batch is counted there).
    xids: list[str] = field(default_factory=list)
    # An attempt may have committed (its answer was lost): the content must never change.
    doubtful: bool = False

    def __len__(self) -> int:
        return len(self.routes) + len(self.operations)


Sender = Callable[[Batch, float], Outcome]


def split_batch(batch: Batch) -> list[Batch]:
    """The two halves of a batch of two cells or more, as new sealed batches; [] for one cell."""
    routes = list(batch.routes.items())
    operations = list(batch.operations.items())
    if len(routes) + len(operations) < 2:
        return []
    half = (len(routes) + len(operations)) // 2
    cut = max(0, half - len(routes))  # where the first half ends among the operations
    return [
        Batch(dict(routes[:half]), dict(operations[:cut]), sealed=True),
        Batch(dict(routes[half:]), dict(operations[cut:]), sealed=True),
    ]


class Flusher:
    def __init__(
        self,
        aggregator: Aggregator,
        sender: Sender,
        *,
        interval: float,
        send_timeout: float,
        retry_initial: float,
        retry_max: float,
        max_batch_cells: int = 5_000,
    ) -> None:
        if max_batch_cells < 1:
            raise ValueError(f"max_batch_cells must be >= 1, got {max_batch_cells}")
        self._aggregator = aggregator
        self._sender = sender
        self.interval = interval
        self.send_timeout = send_timeout  # the longest an attempt may take, connecting included
        self.max_batch_cells = max_batch_cells
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.closed = False
        # Run by the thread when it starts, before its first wait: work a record must not wait
        # for (claiming a spool).
        self.on_start: Callable[[], None] | None = None
        self.rejected_batches = 0
        self.dropped_cells = 0
        self._init_state()

    def _init_state(self) -> None:
        # Reentrant, as a SIGTERM handler delivers in the main thread, which may hold them below
        # in its stack (pgmetrics.shutdown).
        self._send_lock = threading.RLock()  # one sender at a time: the thread, flush() or close()
        self._pending_lock = threading.RLock()  # the pending list, for readers
        self._start_lock = threading.RLock()
        self._pending: list[Batch] = []
        # Batches delivered while a read was under way, which that read must still weigh.
        self._delivered: list[Batch] = []
        self._readers = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    def after_fork_in_child(self) -> None:
        """The parent's batches are the parent's to deliver: the child starts with none."""
        self._init_state()

    def ensure_started(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._start_lock:
            if self.closed or (self._thread is not None and self._thread.is_alive()):
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="pgmetrics-flusher", daemon=True)
            self._thread.start()

    def backoff(self, attempt: int) -> float:
        """The delay before retry ``attempt`` (from 0): exponential, capped, with jitter."""
        delay: float = min(self.retry_max, self.retry_initial * 2.0 ** min(attempt, 30))
        return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret

    def pending_cells(self, routes: RouteCells, operations: OperationCells) -> None:
        """Adds copies of every undelivered cell (pending batches and thread buffers)."""
        with self._pending_lock:
            for batch in self._pending:
                merge_cells(routes, batch.routes, copy=True)
                merge_cells(operations, batch.operations, copy=True)
            self._aggregator.peek(routes, operations)

    def pending_batches(self) -> int:
        with self._pending_lock:
            return len(self._pending)

    def held_cells(self) -> int:
        """Cells in pending batches (not counting the threads' buffers)."""
        with self._pending_lock:
            return sum(len(batch) for batch in self._pending)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Callable[[], list[tuple[list[str], RouteCells, OperationCells]]]]:
        """For a read that weighs the database's snapshot against memory. Within the block,
        the function returned gives copies of every batch not delivered when the block began
        (with the transaction ids of its attempts) and, as a last part without ids, the
        threads' cells. Called after the database took its snapshot, it misses nothing that
        snapshot lacks: a batch leaves memory only after its commit."""
        with self._pending_lock:
            self._readers += 1

        def parts() -> list[tuple[list[str], RouteCells, OperationCells]]:
            found: list[tuple[list[str], RouteCells, OperationCells]] = []
            with self._pending_lock:
                for batch in [*self._delivered, *self._pending]:
                    routes: RouteCells = {}
                    operations: OperationCells = {}
                    merge_cells(routes, batch.routes, copy=True)
                    merge_cells(operations, batch.operations, copy=True)
                    found.append((list(batch.xids), routes, operations))
                routes, operations = {}, {}
                self._aggregator.peek(routes, operations)
                found.append(([], routes, operations))
            return found

        try:
            yield parts
        finally:
            with self._pending_lock:
                self._readers -= 1
                if self._readers == 0:
                    self._delivered.clear()

    def add_sealed(self, batches: list[Batch]) -> None:
        """Queues batches that already have their final id and content (a spool's) ahead of
        what is pending, and wakes the thread to send them."""
        if not batches:
            return
        with self._pending_lock:
            self._pending[0:0] = batches
        self._wake.set()

    def take_pending(self, timeout: float) -> list[Batch] | None:
        """Removes and returns every undelivered batch, the thread buffers collected into the
        last; None when a send in progress did not end within ``timeout`` seconds."""
        if not self._send_lock.acquire(timeout=max(timeout, 0.0)):
            return None
        try:
            self._collect()
            with self._pending_lock:
                batches, self._pending = self._pending, []
            return batches
        finally:
            self._send_lock.release()

    def _collect(self) -> None:
        # From the take until the last cell is placed, cells are in neither the threads' maps
        # nor a pending batch: a delivery on SIGTERM in between would miss them.
        with shutdown.held_back():
            routes: RouteCells = {}
            operations: OperationCells = {}
            with self._pending_lock:
                self._aggregator.take(routes, operations)
                if not routes and not operations:
                    return
                # A key already in an open batch joins its cell there, so that an outage holds
                # one cell per key and hour whatever the number of batches; a new key fills the
                # last open batch up to max_batch_cells, then starts a new batch.
                open_batches = [batch for batch in self._pending if not batch.sealed]
                for cells, kind in ((routes, "routes"), (operations, "operations")):
                    for key, cell in cells.items():
                        self._place(open_batches, kind, key, cell)

    def _place(self, open_batches: list[Batch], kind: str, key: object, cell: Cell) -> None:
        for batch in open_batches:
            target = getattr(batch, kind).get(key)
            if target is not None:
                merge_cell(target, cell)
                return
        if not open_batches or len(open_batches[-1]) >= self.max_batch_cells:
            batch = Batch({}, {})
            self._pending.append(batch)
            open_batches.append(batch)
        getattr(open_batches[-1], kind)[key] = cell

    def _send_pending(self, deadline: float | None) -> bool:
        """Sends the pending batches in order until ``deadline`` (``time.monotonic()``; None:
        ``send_timeout`` for each); True when none is left. The first attempt is always made."""
        attempted = False
        while True:
            with self._pending_lock:
                if not self._pending:
                    # Nothing is held any more: the key cap starts over.
                    self._aggregator.limiter.reset()
                    return True
                batch = self._pending[0]
            timeout = self.send_timeout
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if attempted and remaining <= 0:
                    return False
                timeout = min(timeout, remaining)
            attempted = True
            outcome = self._sender(batch, max(timeout, _MIN_CONNECT_TIMEOUT))
            if outcome is Outcome.REJECTED:
                self.rejected_batches += 1
                self._isolate(batch)
                continue
            if outcome is Outcome.DELIVERED:
                with self._pending_lock:
                    self._pending.remove(batch)
                    if self._readers:
                        self._delivered.append(batch)
                continue
            if outcome is Outcome.UNKNOWN:
                batch.doubtful = True
            elif not batch.doubtful and outcome is Outcome.CANCELLED and self._halve(batch):
                continue
            return False

    def _halve(self, batch: Batch) -> bool:
        """Replaces a batch that no attempt committed by its two halves under new ids."""
        parts = split_batch(batch)
        if not parts:
            return False
        with self._pending_lock:
            index = self._pending.index(batch)
            self._pending[index : index + 1] = parts
        logger.warning(
            "pgmetrics: batch %s (%d cells) timed out; split into %s and %s",
            batch.batch_id,
            len(batch),
            parts[0].batch_id,
            parts[1].batch_id,
        )
        return True

    def _isolate(self, batch: Batch) -> None:
        """Replaces a refused batch, which wrote nothing, by its two halves under new ids; a
        refused batch of one cell is dropped."""
        parts = split_batch(batch)
        with self._pending_lock:
            index = self._pending.index(batch)
            self._pending[index : index + 1] = parts
        if parts:
            logger.warning(
                "pgmetrics: batch %s split into %s and %s to isolate the refused cells",
                batch.batch_id,
                parts[0].batch_id,
                parts[1].batch_id,
            )
            return
        cells = len(batch.routes) + len(batch.operations)
        self.dropped_cells += cells
        logger.error(
            "pgmetrics: dropped %d cell(s) the database refused: %s (%d dropped so far)",
            cells,
            ", ".join(repr(key) for key in [*batch.routes, *batch.operations]),
            self.dropped_cells,
        )

    def _run(self) -> None:
        failures = 0
        stop, wake = self._stop, self._wake
        if self.on_start is not None:
            try:
                self.on_start()
            except Exception:
                logger.exception("pgmetrics: starting the flusher failed")
        while not stop.is_set():
            wake.wait(self.interval if failures == 0 else self.backoff(failures - 1))
            wake.clear()
            if stop.is_set():
                return
            try:
                with self._send_lock:
                    self._collect()
                    delivered = self._send_pending(None)
            except Exception:
                logger.exception("pgmetrics: the flusher failed; it will try again")
                delivered = False
            failures = 0 if delivered else failures + 1

    def flush(self, timeout: float | None) -> bool:
        """Collects and sends now. ``timeout=None`` makes one attempt; a number retries, with
        backoff, for up to that many seconds. True when nothing is left pending."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._send_lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            return False
        try:
            attempt = 0
            while True:
                self._collect()
                if self._send_pending(deadline):
                    return True
                if deadline is None:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                time.sleep(min(self.backoff(attempt), remaining))
                attempt += 1
        finally:
            self._send_lock.release()

    def close(self, timeout: float) -> bool:
        """Stops the thread and delivers what is left, for up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        self.closed = True
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
        delivered = self.flush(max(0.0, deadline - time.monotonic()))
        if not delivered:
            held = self.held_cells()
            logger.error("pgmetrics: closing with %d undelivered cells after %.1f s", held, timeout)
        return delivered
