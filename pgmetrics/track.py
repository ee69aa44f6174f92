"""track_operation: times a block or a function and records it as an operation metric."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast

from pgmetrics.checks import check_name
from pgmetrics.storage import MetricsStorage

P = ParamSpec("P")
R = TypeVar("R")


class track_operation:
    """Records one execution of ``name``: a success when the block or call raises nothing, a
    failure otherwise (the exception propagates). Works as ``with``, ``async with``, and as a
    decorator of plain and ``async def`` functions. ``storage`` defaults to the module-level
    storage at the time the execution ends.

    One object may decorate any number of functions; as a context manager, enter it once at a
    time (``with track_operation("x"):`` creates one per block).
    """

    def __init__(self, name: str, *, storage: MetricsStorage | None = None) -> None:
        self.name = check_name("operation", name)
        self.storage = storage
        self._starts: list[float] = []

    def _record(self, started: float, success: bool) -> None:
        duration_ms = (time.perf_counter() - started) * 1000.0
        if self.storage is not None:
            storage = self.storage
        else:
            from pgmetrics.api import get_storage

            storage = get_storage()
        storage.record_operation_metric(self.name, success, max(duration_ms, 0.0))

    def __enter__(self) -> track_operation:
        self._starts.append(time.perf_counter())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._record(self._starts.pop(), exc_type is None)

    async def __aenter__(self) -> track_operation:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func):
            async_func = cast(Callable[P, Awaitable[Any]], func)

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                started = time.perf_counter()
                try:
                    result = await async_func(*args, **kwargs)
                except BaseException:
                    self._record(started, False)
                    raise
                self._record(started, True)
                return result

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            except BaseException:
                self._record(started, False)
                raise
            self._record(started, True)
            return result

        return wrapper
