"""The ends of a process's life for every open database storage: interpreter exit, the exit of a
``multiprocessing`` child, and a fork.

A child that ``multiprocessing`` started with the fork method ends with ``os._exit``, so no atexit
hook runs in it; it runs ``multiprocessing.util``'s finalizers first, and a finalizer registered
in the child (after multiprocessing cleared those it inherited) delivers what it recorded.
"""

from __future__ import annotations

import atexit
import logging
import os
import weakref
from multiprocessing import util as multiprocessing_util
from typing import Protocol

logger = logging.getLogger("pgmetrics")

# Before multiprocessing's own finalizers of the same run (a Pool's, a manager's), which have
# lower priorities or none.
_EXIT_PRIORITY = 100


class Closable(Protocol):
    def close(self, timeout: float | None = None) -> None: ...

    def _after_fork_in_child(self) -> None: ...


_STORAGES: weakref.WeakSet[Closable] = weakref.WeakSet()


def add(storage: Closable) -> None:
    """``storage`` delivers what it holds when the process ends."""
    _STORAGES.add(storage)


def discard(storage: Closable) -> None:
    _STORAGES.discard(storage)


def close_all() -> None:
    """Every open storage delivers what is left, for its shutdown timeout."""
    for storage in list(_STORAGES):
        try:
            storage.close()
        except Exception:
            logger.exception("pgmetrics: closing a storage at exit failed")


def _after_fork_in_child() -> None:
    for storage in list(_STORAGES):
        storage._after_fork_in_child()


class _Marker:
    """What multiprocessing's after-fork registry keeps a weak reference to."""


_MARKER = _Marker()


def _in_multiprocessing_child(_: object) -> None:
    multiprocessing_util.Finalize(None, close_all, exitpriority=_EXIT_PRIORITY)


os.register_at_fork(after_in_child=_after_fork_in_child)
multiprocessing_util.register_after_fork(_MARKER, _in_multiprocessing_child)
atexit.register(close_all)
