"""One attempt at delivering a batch (``pgmetrics.ingest_batch``), and the fold that follows a
delivery now and then."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import psycopg
from psycopg.pq import TransactionStatus

from pgmetrics import queries
from pgmetrics.deadline import Deadline, deadline
from pgmetrics.errors import BatchRejectedError, from_psycopg
from pgmetrics.flusher import Batch, Outcome
from pgmetrics.pools import Pools
from pgmetrics.wire import CellArray, CellArrayDumper, operation_cell_array, route_cell_array

logger = logging.getLogger("pgmetrics")

# SQLSTATE insufficient_privilege: the role may record but not fold.
_INSUFFICIENT_PRIVILEGE = "42501"


class Delivery:
    """Sends batches over ``pools``; ``on_outcome`` hears of each attempt's outcome before the
    flusher acts on it."""

    def __init__(
        self,
        pools: Pools,
        *,
        fold_interval: float,
        on_outcome: Callable[[Batch, Outcome], None],
    ) -> None:
        self.pools = pools
        self.fold_interval = fold_interval
        self._on_outcome = on_outcome
        self._last_fold = time.monotonic()
        # False once the database said this role may not fold: it folds elsewhere (pg_cron, a
        # maintenance role), and asking again every interval would only be refused again.
        self.folds = True
        self.closed = False
        self._in_flight: Deadline | None = None

    def deliver(self, batch: Batch, timeout: float) -> Outcome:
        outcome = self._send(batch, timeout)
        self._on_outcome(batch, outcome)
        return outcome

    def _send(self, batch: Batch, timeout: float) -> Outcome:
        """One attempt at delivering ``batch``, over in ``timeout`` seconds whatever happens."""
        connect_timeout = self.pools.connect_timeout
        reached = False
        refused: psycopg.Error | None = None  # the server's error inside the transaction
        end = time.monotonic() + timeout
        try:
            pool = self.pools.get()
            with (
                pool.connection(timeout=min(connect_timeout, timeout)) as conn,
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
            self.pools.drop()
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
        the cells stay staged and counted. A role the database does not let fold never tries
        again in this process: folding is then someone else's job."""
        now = time.monotonic()
        if self.closed or not self.folds or not self.fold_interval:
            return
        if now - self._last_fold < self.fold_interval or end - now < 1.0:
            return
        self._last_fold = now
        try:
            with (
                self.pools.get().connection(
                    timeout=min(self.pools.connect_timeout, end - now)
                ) as conn,
                deadline(conn, end) as self._in_flight,
            ):
                conn.execute(queries.FOLD_EVENTS)
        except Exception as exc:  # the delivery itself succeeded: a failed fold only waits
            if isinstance(exc, psycopg.Error) and exc.sqlstate == _INSUFFICIENT_PRIVILEGE:
                self.folds = False
                logger.info(
                    "pgmetrics: this role may not run fold_events, so this process does not "
                    "fold; pg_cron or a maintenance role must: %s",
                    from_psycopg(exc),
                )
                return
            logger.info(
                "pgmetrics: fold_events failed, the cells stay staged: %s", from_psycopg(exc)
            )
        finally:
            self._in_flight = None

    def cut_in_flight(self, timeout: float) -> None:
        """A delivery under way on a connection that stopped answering would hold the send lock
        until its own deadline: it ends by half of ``timeout``, leaving the other half to send
        again over a new connection."""
        watch = self._in_flight
        if watch is not None:
            watch.bring_forward(time.monotonic() + max(0.0, timeout) / 2)

    def after_fork_in_child(self) -> None:
        self._in_flight = None
