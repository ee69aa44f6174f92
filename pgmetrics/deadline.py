"""A client-side deadline on one use of a connection.

libpq has no timeout on a query: a server that stops answering, or a path that stops carrying
packets while something between keeps the TCP connection up (a proxy, a load balancer), leaves
the caller waiting until the kernel gives up, which TCP keepalives and ``tcp_user_timeout`` only
bound where the peer's kernel stops acknowledging. ``statement_timeout`` is enforced by the
server, whose answer cannot come back over a dead path. So each send and read runs under a
deadline that, when it passes, shuts the connection's socket down: the waiting call fails at
once with ``OperationalError``, and the pool discards the broken connection.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any


class Deadline:
    """Shuts down the socket of ``conn`` at ``at`` (``time.monotonic()``) unless ended first."""

    def __init__(self, conn: Any, at: float) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._ended = False
        self.fired = False
        self.at = at
        self._timer = self._start(at)

    def _start(self, at: float) -> threading.Timer:
        timer = threading.Timer(max(0.0, at - time.monotonic()), self._fire)
        timer.daemon = True
        timer.name = "pgmetrics-deadline"
        timer.start()
        return timer

    def bring_forward(self, at: float) -> None:
        """Moves the deadline to ``at`` when that is sooner."""
        with self._lock:
            if self._ended or at >= self.at:
                return
            self._timer.cancel()
            self.at = at
            self._timer = self._start(at)

    def end(self) -> None:
        with self._lock:
            self._ended = True
            self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            # Ended means the connection may already be back in its pool, someone else's.
            if self._ended or time.monotonic() < self.at:
                return
            self.fired = True
            try:
                fd = self._conn.pgconn.socket
            except Exception:  # closed meanwhile: nothing left to stop
                return
            # shutdown() acts on the socket, not the descriptor: a duplicate reaches it without
            # closing the descriptor libpq still owns.
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def deadline(conn: Any, at: float) -> Iterator[Deadline]:
    """Runs the block under a ``Deadline`` at ``at`` (``time.monotonic()``)."""
    watch = Deadline(conn, at)
    try:
        yield watch
    finally:
        watch.end()
