"""Both storages check their arguments alike: the same bad input raises the same ValueError,
before anything is recorded or any database is reached."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from pgmetrics import DatabaseMetricsStorage, MemoryMetricsStorage, TimeRange
from pgmetrics.storage import BaseMetricsStorage

T0 = datetime(2026, 3, 1, tzinfo=UTC)

Call = Callable[[BaseMetricsStorage], object]

BAD_CALLS: list[tuple[str, Call]] = [
    ("empty route", lambda s: s.record_route_metric("", "GET", True, 1.0)),
    ("long route", lambda s: s.record_route_metric("r" * 1025, "GET", True, 1.0)),
    ("unknown method", lambda s: s.record_route_metric("/a", "FETCH", True, 1.0)),
    ("NaN duration", lambda s: s.record_route_metric("/a", "GET", True, math.nan)),
    ("negative duration", lambda s: s.record_operation_metric("op", True, -1.0)),
    ("success not a bool", lambda s: s.record_operation_metric("op", 1, 1.0)),  # type: ignore[arg-type]
    ("naive at", lambda s: s.record_operation_metric("op", True, 1.0, at=datetime(2026, 1, 1))),
    ("empty route filter", lambda s: s.get_route_metrics(route="")),
    ("route filter not a str", lambda s: s.get_route_metrics(route=7)),  # type: ignore[arg-type]
    ("long operation filter", lambda s: s.get_operation_metrics(operation="o" * 1025)),
    ("unknown method filter", lambda s: s.get_route_metrics(method="FETCH")),
    ("unknown bucket", lambda s: s.get_route_metrics(bucket="minute")),
    ("unknown bucket (operations)", lambda s: s.get_operation_metrics(bucket="DAY")),
    ("unknown zone", lambda s: s.get_route_metrics(tz="Mars/Olympus")),
    ("empty zone", lambda s: s.get_operation_metrics(tz="")),
    ("range not a TimeRange", lambda s: s.get_route_metrics(time_range=(T0, T0))),  # type: ignore[arg-type]
]


@pytest.fixture
def storages() -> Iterator[tuple[MemoryMetricsStorage, DatabaseMetricsStorage]]:
    # Nothing listens on port 9: a read that got past its checks would answer from memory.
    database = DatabaseMetricsStorage("host=127.0.0.1 port=9 dbname=none", connect_timeout=0.5)
    yield MemoryMetricsStorage(), database
    database.close(timeout=0)


def _error(call: Call, storage: BaseMetricsStorage) -> str:
    with pytest.raises(ValueError, match=" must ") as caught:
        call(storage)
    return str(caught.value)


@pytest.mark.parametrize(("case", "call"), BAD_CALLS, ids=[case for case, _ in BAD_CALLS])
def test_both_storages_reject_alike(
    storages: tuple[MemoryMetricsStorage, DatabaseMetricsStorage], case: str, call: Call
) -> None:
    memory, database = storages
    assert _error(call, memory) == _error(call, database)


def test_a_good_read_passes_the_checks_of_both(
    storages: tuple[MemoryMetricsStorage, DatabaseMetricsStorage],
) -> None:
    for storage in storages:
        report = storage.get_route_metrics(
            route="/a", method="get", time_range=TimeRange(T0, T0), bucket="month", tz="UTC"
        )
        assert report.rows == ()
