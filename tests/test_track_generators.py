"""track_operation on generator and async generator functions: the execution is the iteration,
from the first item to the end, not the call that creates the generator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Generator, Iterator

import pytest

from pgmetrics import MemoryMetricsStorage, track_operation

PAUSE = 0.05


def _executions(storage: MemoryMetricsStorage) -> list[tuple[int, int, float]]:
    return [
        (row.total_executions, row.failed, row.max_duration_ms)
        for row in storage.get_operation_metrics("rows")
    ]


def test_a_generator_is_timed_over_its_iteration() -> None:
    storage = MemoryMetricsStorage()

    @track_operation("rows", storage=storage)
    def rows(count: int) -> Iterator[int]:
        for index in range(count):
            time.sleep(PAUSE)
            yield index

    iterator = rows(3)
    assert _executions(storage) == []  # created, nothing ran yet
    assert list(iterator) == [0, 1, 2]
    [(total, failed, duration_ms)] = _executions(storage)
    assert (total, failed) == (1, 0)
    assert duration_ms >= 3 * PAUSE * 1000


def test_a_generator_that_raises_is_a_failure_and_one_stopped_early_a_success() -> None:
    storage = MemoryMetricsStorage()

    @track_operation("rows", storage=storage)
    def rows(fail_at: int) -> Iterator[int]:
        for index in range(5):
            if index == fail_at:
                raise RuntimeError("row failed")
            yield index

    with pytest.raises(RuntimeError, match="row failed"):
        list(rows(2))
    assert _executions(storage)[0][:2] == (1, 1)
    for index in rows(99):
        if index == 1:
            break
    assert _executions(storage)[0][:2] == (2, 1)


def test_a_generator_receives_what_is_sent_and_returns_its_value() -> None:
    storage = MemoryMetricsStorage()

    @track_operation("rows", storage=storage)
    def echo() -> Generator[int, int, int]:
        total = 0
        while total < 10:
            total += yield total
        return total

    generator = echo()
    assert next(generator) == 0
    assert generator.send(4) == 4
    with pytest.raises(StopIteration) as stopped:
        generator.send(7)
    assert stopped.value.value == 11
    assert _executions(storage)[0][:2] == (1, 0)


def test_an_async_generator_is_timed_over_its_iteration() -> None:
    storage = MemoryMetricsStorage()

    @track_operation("rows", storage=storage)
    async def rows(count: int, fail_at: int = -1) -> AsyncGenerator[int, None]:
        for index in range(count):
            if index == fail_at:
                raise RuntimeError("row failed")
            await asyncio.sleep(PAUSE)
            yield index

    async def scenario() -> None:
        iterator = rows(3)
        assert _executions(storage) == []
        assert [index async for index in iterator] == [0, 1, 2]
        [(total, failed, duration_ms)] = _executions(storage)
        assert (total, failed) == (1, 0)
        assert duration_ms >= 3 * PAUSE * 1000
        with pytest.raises(RuntimeError, match="row failed"):
            [index async for index in rows(3, fail_at=1)]
        assert _executions(storage)[0][:2] == (2, 1)
        early = rows(3)
        assert await early.__anext__() == 0
        await early.aclose()
        assert _executions(storage)[0][:2] == (3, 1)
        thrown = rows(3)
        await thrown.__anext__()
        with pytest.raises(KeyError):
            await thrown.athrow(KeyError("from the consumer"))
        assert _executions(storage)[0][:2] == (4, 2)

    asyncio.run(scenario())
