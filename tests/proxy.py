"""A TCP proxy on 127.0.0.1 that can stop forwarding without closing anything, as a dropped NAT
entry or a hung network path does: the client's bytes are accepted by the proxy's kernel and
then discarded, so the client sees neither an answer nor an error, and TCP keepalives and
``tcp_user_timeout`` cannot tell (the proxy's kernel acknowledges everything). Only what
pgmetrics itself bounds can end such a wait."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(eq=False)
class _Link:
    client: socket.socket
    server: socket.socket | None
    dead: bool  # discards whatever either side sends, for good


class BlackholeProxy:
    """Forwards 127.0.0.1:``port`` to ``target``. ``blackhole()`` stops forwarding on every
    connection, open or new; ``restore()`` forwards new connections again, while those that
    lived through the blackhole stay dead (their streams lost bytes): the path is back, the
    old flows are not, as after a NAT entry was dropped. ``drop_open()`` kills the open
    connections alone: new ones are forwarded at once."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._blackholed = False
        self._stopped = False
        self.forwarded_connections = 0
        self._thread = threading.Thread(target=self._run, name="blackhole-proxy", daemon=True)
        self._thread.start()

    def dsn(self, dsn: str) -> str:
        """``dsn`` (a libpq URL or key=value string of the target) pointed at the proxy."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(dsn)
        params.update(host="127.0.0.1", port=str(self.port))
        return make_conninfo(**params)  # type: ignore[arg-type]

    def blackhole(self) -> None:
        with self._lock:
            self._blackholed = True
            for link in self._links:
                link.dead = True

    def restore(self) -> None:
        with self._lock:
            self._blackholed = False

    def drop_open(self) -> None:
        with self._lock:
            for link in self._links:
                link.dead = True

    def close(self) -> None:
        self._stopped = True
        self._thread.join(5)
        with self._lock:
            for link in self._links:
                self._close_link(link)
            self._links.clear()
        self._selector.close()
        self._listener.close()

    def _close_link(self, link: _Link) -> None:
        for sock in (link.client, link.server):
            if sock is None or sock.fileno() < 0:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            sock.close()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        client.setblocking(False)
        with self._lock:
            dead = self._blackholed
        server = None
        if not dead:
            server = socket.create_connection(self._target, timeout=5)
            server.setblocking(False)
            self.forwarded_connections += 1
        link = _Link(client, server, dead)
        with self._lock:
            self._links.append(link)
        self._selector.register(client, selectors.EVENT_READ, (link, "client"))
        if server is not None:
            self._selector.register(server, selectors.EVENT_READ, (link, "server"))

    def _pump(self, link: _Link, side: str) -> None:
        source = link.client if side == "client" else link.server
        target = link.server if side == "client" else link.client
        assert source is not None
        try:
            data = source.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        with self._lock:
            dead = link.dead
        if not data:
            if dead:
                # Nothing crosses a dead path, a close neither: the other side keeps waiting.
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(source)
                source.close()
                return
            with self._lock:
                if link in self._links:
                    self._links.remove(link)
            self._close_link(link)
            return
        if dead or target is None:
            return
        try:
            target.setblocking(True)
            target.sendall(data)
            target.setblocking(False)
        except OSError:
            with self._lock:
                if link in self._links:
                    self._links.remove(link)
            self._close_link(link)

    def _run(self) -> None:
        while not self._stopped:
            for key, _ in self._selector.select(timeout=0.05):
                if key.data is None:
                    self._accept()
                else:
                    link, side = key.data
                    self._pump(link, side)


@contextlib.contextmanager
def blackhole_proxy(host: str, port: int) -> Iterator[BlackholeProxy]:
    proxy = BlackholeProxy(host, port)
    try:
        yield proxy
    finally:
        proxy.close()
