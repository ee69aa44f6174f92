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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    client: socket.socket
    server: socket.socket | None
    dead: bool  # discards whatever either side sends, for good
    held: list[bytes] | None = None  # the client's bytes waiting for a trigger's action
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(eq=False)
class _Trigger:
    pattern: bytes
    action: Callable[[], object]
    hold: bool
    done: threading.Event = field(default_factory=threading.Event)


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
        self._triggers: list[_Trigger] = []
        self._thread = threading.Thread(target=self._run, name="blackhole-proxy", daemon=True)
        self._thread.start()

    def dsn(self, dsn: str) -> str:
        """``dsn`` (a libpq URL or key=value string of the target) pointed at the proxy."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(dsn)
        params.update(host="127.0.0.1", port=str(self.port))
        return make_conninfo(**params)  # type: ignore[arg-type]

    def when_sent(
        self, pattern: bytes, action: Callable[[], object], *, hold: bool
    ) -> threading.Event:
        """The next time a client sends bytes holding ``pattern``: with ``hold``, those bytes
        wait until ``action`` (run in a thread of its own) returns, then go on; without, they
        go on and ``action`` runs at once, in the proxy's thread (so it must not wait for the
        proxy). The event returned is set once ``action`` has returned."""
        trigger = _Trigger(pattern, action, hold)
        with self._lock:
            self._triggers.append(trigger)
        return trigger.done

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
        trigger = self._match(data) if side == "client" else None
        with link.lock:
            if link.held is not None:
                link.held.append(data)
                return
            if trigger is not None and trigger.hold:
                link.held = [data]
                threading.Thread(target=self._release, args=(link, trigger), daemon=True).start()
                return
        self._send(link, target, data)
        if trigger is not None:
            trigger.action()
            trigger.done.set()

    def _match(self, data: bytes) -> _Trigger | None:
        with self._lock:
            for trigger in self._triggers:
                if trigger.pattern in data:
                    self._triggers.remove(trigger)
                    return trigger
        return None

    def _release(self, link: _Link, trigger: _Trigger) -> None:
        try:
            trigger.action()
        finally:
            trigger.done.set()
            with link.lock:
                held, link.held = link.held or [], None
                if link.server is not None and not link.dead:
                    for data in held:
                        self._send(link, link.server, data)

    def _send(self, link: _Link, target: socket.socket, data: bytes) -> None:
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
