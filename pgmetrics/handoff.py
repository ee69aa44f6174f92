"""The spool hand-off of a database storage: what processes that exited left in the spool is
claimed by the flusher thread (never by a record), and what this one cannot deliver when it
stops is written there."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pgmetrics.cells import OperationCells, RouteCells
from pgmetrics.flusher import Batch, Flusher
from pgmetrics.spool import Spool
from pgmetrics.spool import cells as batch_cells
from pgmetrics.spool import events as batch_events

logger = logging.getLogger("pgmetrics")


class SpoolHandoff:
    def __init__(
        self,
        spool: Spool | None,
        flusher: Flusher,
        *,
        connect_timeout: float,
        cut_in_flight: Callable[[float], None],
    ) -> None:
        self.spool = spool
        self._flusher = flusher
        self._connect_timeout = connect_timeout
        self._cut_in_flight = cut_in_flight
        self.overflowed_events = 0
        self._claimed = False
        self._lock = threading.RLock()

    def after_fork_in_child(self) -> None:
        if self.spool is not None:
            self.spool.after_fork_in_child()
        # The child may claim what the spool holds: the parent's claims stay the parent's.
        self._claimed = False
        self._lock = threading.RLock()

    def claim(self) -> None:
        """Claims the batches left in the spool, once, and queues them ahead of what is pending.
        The flusher thread calls it when it starts; a flush calls it first, so that it delivers
        them too."""
        spool = self.spool
        if spool is None or self._claimed:
            return
        with self._lock:
            if self._claimed:
                return
            try:
                batches = spool.claim()
            except OSError as exc:
                logger.error("pgmetrics: the spool %s cannot be read: %s", spool.path, exc)  # noqa: TRY400
                return
            finally:
                # Set once the claim is over: a flush that finds it set finds the batches queued.
                self._claimed = True
            if batches:
                logger.info(
                    "pgmetrics: delivering %d batch(es), %d events, left in the spool %s",
                    len(batches),
                    sum(batch_events(batch) for batch in batches),
                    spool.path,
                )
                self._flusher.add_sealed(batches)

    def release(self, batch: Batch) -> None:
        """The batch was delivered, or refused and split into new batches held in memory: either
        way its file (if it came from the spool) has served."""
        if self.spool is not None:
            self.spool.release(batch.batch_id)

    def _held(self) -> Batch:
        """Copies of every undelivered cell, as one batch to count."""
        routes: RouteCells = {}
        operations: OperationCells = {}
        self._flusher.pending_cells(routes, operations)
        return Batch(routes, operations)

    def write_rest(self, reason: str) -> None:
        """Writes what is still undelivered to the spool, or logs what is lost without one."""
        spool = self.spool
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
        wait = self._connect_timeout + 1.0
        self._cut_in_flight(2 * self._connect_timeout)
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
            self.overflowed_events += result.overflow_events
            logger.error(
                "pgmetrics: at %s, the spool %s is full (%d bytes): %d events (%d cells, "
                "%d batch(es)) are lost (%d lost to a full spool so far)",
                reason,
                spool.path,
                spool.max_bytes,
                result.overflow_events,
                result.overflow_cells,
                result.overflow_batches,
                self.overflowed_events,
            )
