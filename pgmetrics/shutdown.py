"""Delivery when the process is told to stop: SIGTERM, whoever else handles it.

pgmetrics puts its SIGTERM handler in front of the one in place when a storage first records
(main thread only: Python allows no other) and keeps whatever it found:

- a server's Python handler (gunicorn's workers, uvicorn) is called as before, and nothing else
  happens here: the server shuts down gracefully, finishes its requests, and delivery follows at
  ASGI lifespan shutdown or interpreter exit, after the last request rather than before it;
- the default action (or a handler installed outside Python) means the process ends now: every
  registered storage delivers what it holds, spooling what the database does not take, and the
  signal is raised again with that action, so the exit status stays "terminated by SIGTERM";
- an ignored SIGTERM stays ignored.

uvicorn shows why both halves matter: it installs its own handler while it serves, and after its
graceful shutdown restores the handler it found and raises SIGTERM again. The handler it found is
this one when the application recorded before uvicorn started, so the re-raised signal delivers.

A flush that moves cells out of the threads' maps into pending batches holds them where no
delivery sees them until it is done: that step runs ``held_back()``, and a SIGTERM that lands
in it is handled (delivery, or the handler found) in the same thread as soon as the step ends.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import weakref
from types import FrameType
from typing import Any, Protocol

logger = logging.getLogger("pgmetrics")


class Drainable(Protocol):
    shutdown_timeout: float

    def drain(self, timeout: float | None = None, *, reason: str = ...) -> bool: ...


_targets: weakref.WeakSet[Any] = weakref.WeakSet()
_lock = threading.Lock()
_previous: Any = signal.SIG_DFL
# Only the main thread runs signal handlers, so only its own steps hold the signal back.
_holding = 0
_held: tuple[int, FrameType | None] | None = None


class _HeldBack:
    def __enter__(self) -> None:
        global _holding
        if threading.current_thread() is threading.main_thread():
            _holding += 1

    def __exit__(self, *_: object) -> None:
        global _holding, _held
        if threading.current_thread() is not threading.main_thread():
            return
        _holding -= 1
        if _holding == 0 and _held is not None:
            signum, frame = _held
            _held = None
            _on_sigterm(signum, frame)


_HELD_BACK = _HeldBack()


def _after_fork_in_child() -> None:
    # A fork from another thread may come while the main thread holds the signal back: the
    # child's main thread is the forking one, which holds nothing.
    global _holding, _held
    _holding, _held = 0, None


os.register_at_fork(after_in_child=_after_fork_in_child)


def held_back() -> _HeldBack:
    """A block (short, never waiting on the database) that pgmetrics' SIGTERM handler must not
    interrupt: in the main thread, a SIGTERM that arrives within it is handled when it ends."""
    return _HELD_BACK


def register(target: Drainable) -> None:
    """Makes ``target`` deliver on SIGTERM, and puts the handler in place if it is not."""
    _targets.add(target)
    install_sigterm_handler()


def unregister(target: Drainable) -> None:
    """``target`` no longer delivers on SIGTERM (it was closed)."""
    _targets.discard(target)


def install_sigterm_handler() -> bool:
    """Chains pgmetrics' handler in front of the current one unless it is there already. Only
    the main thread can install a handler: elsewhere this returns False and changes nothing."""
    global _previous
    if threading.current_thread() is not threading.main_thread():
        return False
    with _lock:
        current = signal.getsignal(signal.SIGTERM)
        if current is _on_sigterm:
            return True
        _previous = current
        signal.signal(signal.SIGTERM, _on_sigterm)
    return True


def drain_all(reason: str) -> bool:
    """Every registered storage delivers what it holds now, spooling the rest; True when all was
    delivered. Runs in the calling thread, the one the signal interrupted: it may hold a lock
    that delivery needs, below in its stack, so those locks are reentrant (or, for the lock of
    its own record, left alone: pgmetrics.aggregator), and every wait on another thread is
    bounded by the storage's shutdown timeout. A thread of its own would wait on such a lock
    until it gave up, with nothing delivered."""
    results = []
    for target in list(_targets):
        try:
            results.append(target.drain(reason=reason))
        except Exception:
            logger.exception("pgmetrics: delivery at %s failed", reason)
            results.append(False)
    return all(results)


def start(storage: Any) -> None:
    """Starts a storage's delivery now when it can (a database storage claims its spool)."""
    starter = getattr(storage, "start", None)
    if callable(starter):
        try:
            starter()
        except Exception:
            logger.exception("pgmetrics: starting the storage failed")


def deliver(storage: Any, reason: str) -> bool:
    """A storage delivers what it holds at a shutdown hook: ``drain`` (spooling the rest) where
    it has one, else ``flush``. Never raises: a hook must let the server go on shutting down."""
    try:
        drain = getattr(storage, "drain", None)
        if callable(drain):
            return bool(drain(reason=reason))
        return bool(storage.flush())
    except Exception:
        logger.exception("pgmetrics: delivery at %s failed", reason)
        return False


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _held
    if _holding:
        _held = (signum, frame)
        return
    previous = _previous
    if callable(previous):
        previous(signum, frame)
        return
    if previous == signal.SIG_IGN:
        return
    drain_all("SIGTERM")
    # Python cannot reinstall a handler installed outside it: the default action comes closest.
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)
