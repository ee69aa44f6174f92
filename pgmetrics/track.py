"""track_operation: times a block or a function and records it as an operation metric."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast

from pgmetrics.api import check_environment
from pgmetrics.checks import check_name
from pgmetrics.storage import MetricsStorage

P = ParamSpec("P")
R = TypeVar("R")


class track_operation:
    """Records one execution of ``name``: a success when the block or call raises nothing, a
    failure otherwise (the exception propagates). Works as ``with``, ``async with``, and as a
    decorator of plain and ``async def`` functions, and of generator and async generator
    functions, which are timed from their first item to their end (a consumer that stops early
    ends a success). ``storage`` defaults to the module-level storage at the time the execution
    ends; without one, a malformed OBSERVABILITY_METRICS_* variable raises ValueError here, when
    the object is made (at decoration), before anything it tracks has run.

    One object may decorate any number of functions; as a context manager, enter it once at a
    time (``with track_operation("x"):`` creates one per block).
    """

    def __init__(self, name: str, *, storage: MetricsStorage | None = None) -> None:
        self.name = check_name("operation", name)
        if storage is None:
            check_environment()
        elif not callable(getattr(storage, "record_operation_metric", None)):
            raise TypeError(f"storage must be a MetricsStorage, got {type(storage).__name__}")
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
        if not callable(func):
            raise TypeError(f"track_operation decorates a function, got {type(func).__name__}")
        if inspect.isgeneratorfunction(func):
            return cast(Callable[P, R], self._generator(func))
        if inspect.isasyncgenfunction(func):
            return cast(Callable[P, R], self._async_generator(func))
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

    def _generator(self, func: Callable[P, Any]) -> Callable[P, Generator[Any, Any, Any]]:
        # Calling a generator function runs none of its body: the time is the iteration's.
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Generator[Any, Any, Any]:
            started = time.perf_counter()
            success = False
            try:
                result = yield from func(*args, **kwargs)
            except GeneratorExit:
                success = True  # the consumer stopped early: nothing failed
                raise
            else:
                success = True
                return result
            finally:
                self._record(started, success)

        return wrapper

    def _async_generator(self, func: Callable[P, Any]) -> Callable[P, AsyncGenerator[Any, Any]]:
        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[Any, Any]:
            inner: AsyncGenerator[Any, Any] = func(*args, **kwargs)
            started = time.perf_counter()
            success = False
            try:
                item = await inner.__anext__()
                while True:  # what ``yield from`` does for a generator: sends and throws go in
                    try:
                        sent = yield item
                    except GeneratorExit:
                        success = True
                        await inner.aclose()
                        raise
                    except BaseException as exc:
                        item = await inner.athrow(exc)
                    else:
                        item = await inner.asend(sent)
            except StopAsyncIteration:
                success = True
            finally:
                self._record(started, success)

        return wrapper
