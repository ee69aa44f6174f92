"""The connection pools of a database storage: one for delivery, one for reads, one for a read
replica, each opened at its first use and never in the constructor."""

from __future__ import annotations

import math
import threading
from typing import Any

import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgmetrics.checks import check_seconds

Pool = psycopg_pool.ConnectionPool[Any]

# The client never waits between the statements of its transactions, beyond building a batch.
_IDLE_IN_TRANSACTION_MS = 5000


def is_connection_failure(exc: BaseException) -> bool:
    """No answer came from the server (as opposed to an error it sent): the connection is gone."""
    if isinstance(exc, psycopg_pool.PoolTimeout | OSError):
        return True
    return isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None


def close_pool(pool: Pool, timeout: float) -> threading.Thread:
    """Closes ``pool`` in a thread of its own and returns that thread, so that no caller waits for
    a pool worker stuck connecting to a dead path. The pool's workers get ``timeout`` seconds to
    stop: a healthy worker stops at once, and a wait of 0 would log "couldn't stop thread" for
    every one of them."""
    thread = threading.Thread(
        target=pool.close, kwargs={"timeout": timeout}, name="pgmetrics-pool-close", daemon=True
    )
    thread.start()
    return thread


class Pools:
    """``database`` is a DSN (the pools are then owned, and closed by ``close``) or a caller's
    open pool, used for delivery and reads and never closed here."""

    def __init__(
        self,
        database: str | Pool,
        *,
        connect_timeout: float,
        statement_timeout: float,
        read_timeout: float,
        tcp_user_timeout: float,
        keepalives_idle: float,
        keepalives_interval: float,
        keepalives_count: int,
        read_database: str | None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.read_timeout = read_timeout
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
            self.conninfo: str | None = database
            self._pool: Pool | None = None
        else:
            self.conninfo = None
            self._pool = database
        self.owned = self.conninfo is not None
        # Reads have their own pool, so that a slow summary never delays delivery.
        self._read_pool: Pool | None = None
        if read_database is not None and (not isinstance(read_database, str) or not read_database):
            raise ValueError(f"read_database must be a non-empty DSN, got {read_database!r}")
        self.replica_conninfo = read_database
        self._replica_pool: Pool | None = None
        # Reentrant: a SIGTERM handler may deliver while its thread holds it (pgmetrics.shutdown).
        self._lock = threading.RLock()

    def connection_string(self, statement_timeout: float, conninfo: str | None = None) -> str:
        """The DSN (``conninfo``, by default the storage's) with pgmetrics' timeouts and
        keepalives added where it sets none itself, and ``statement_timeout`` (seconds) for the
        server."""
        if conninfo is None:
            conninfo = self.conninfo
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

    def get(self, *, read: bool = False) -> Pool:
        pool = self._read_pool if read and self.owned else self._pool
        if pool is not None:
            return pool
        with self._lock:
            if read and self.owned:
                if self._read_pool is None:
                    self._read_pool = self._new("pgmetrics-read", self.read_timeout)
                return self._read_pool
            if self._pool is None:
                self._pool = self._new("pgmetrics", self.statement_timeout)
            return self._pool

    def get_replica(self, conninfo: str) -> Pool:
        pool = self._replica_pool
        if pool is not None:
            return pool
        with self._lock:
            if self._replica_pool is None:
                self._replica_pool = self._new("pgmetrics-replica", self.read_timeout, conninfo)
            return self._replica_pool

    def _new(self, name: str, statement_timeout: float, conninfo: str | None = None) -> Pool:
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

    def drop(self) -> None:
        """After a failed send, an owned pool is replaced by a new one at the next attempt.

        A pool retries a dead server with doubling delays (1, 2, 4 ... s), so after a long outage
        its next attempt could come a minute after the database is back, and a process exiting
        meanwhile would lose what it holds. A new pool connects at once: the flusher's own
        backoff, capped at retry_max, sets the pace.
        """
        if not self.owned:
            return
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            close_pool(pool, self.connect_timeout)

    def drop_read(self) -> None:
        """After a read lost its connection, as ``drop`` after a failed send: the other
        connections of the pool may have died with it."""
        if not self.owned:
            return
        with self._lock:
            pool, self._read_pool = self._read_pool, None
        if pool is not None:
            close_pool(pool, self.connect_timeout)

    def drop_replica(self) -> None:
        with self._lock:
            pool, self._replica_pool = self._replica_pool, None
        if pool is not None:
            close_pool(pool, self.connect_timeout)

    def close(self, timeout: float) -> None:
        """Closes the replica's pool and the owned ones, waiting up to ``timeout`` seconds for
        their workers; a caller's pool stays open."""
        with self._lock:
            pools = [self._replica_pool]
            self._replica_pool = None
            if self.owned:
                pools += [self._pool, self._read_pool]
                self._pool = self._read_pool = None
        # A worker connecting to a dead path stops within connect_timeout.
        wait = min(max(timeout, 0.0), self.connect_timeout)
        threads = [close_pool(pool, wait) for pool in pools if pool is not None]
        for thread in threads:
            thread.join(wait + 1.0)

    def after_fork_in_child(self) -> None:
        """The parent's connections and pool threads are the parent's: never touch them."""
        if self.owned:
            for pool in (self._pool, self._read_pool):
                if pool is not None:
                    _INHERITED.append(pool)
            self._pool = self._read_pool = None
        if self._replica_pool is not None:
            _INHERITED.append(self._replica_pool)
            self._replica_pool = None
        self._lock = threading.RLock()


# Pools a forked child inherited: kept referenced, so that they are never closed (or collected,
# which closes them) in the child.
_INHERITED: list[Pool] = []
