"""p50 / p95 / p99 of the in-memory summaries against exact nearest-rank quantiles: for an hour and
for day, week and all buckets merged from many hours; minimum and maximum exact."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from pgmetrics import MemoryMetricsStorage
from pgmetrics.histogram import Histogram
from pgmetrics.types import OperationMetrics, RouteMetrics

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)  # a Monday
N = 3000
QUANTILES = (0.5, 0.95, 0.99)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _lognormal(rng: random.Random) -> list[float]:
    return [rng.lognormvariate(3.0, 1.0) for _ in range(N)]


def _bimodal(rng: random.Random) -> list[float]:
    # 85 % fast (about 4 ms), 15 % slow (about 300 ms): p50 in one mode, p95 and p99 in the other.
    return [
        rng.lognormvariate(math.log(4.0), 0.2)
        if rng.random() < 0.85
        else rng.lognormvariate(math.log(300.0), 0.1)
        for _ in range(N)
    ]


def _constant(rng: random.Random) -> list[float]:
    return [42.5] * N


def _zeros(rng: random.Random) -> list[float]:
    return [0.0] * N


def _zeros_and_lognormal(rng: random.Random) -> list[float]:
    return [0.0 if rng.random() < 0.6 else rng.lognormvariate(1.0, 1.5) for _ in range(N)]


DATASETS: dict[str, Callable[[random.Random], list[float]]] = {
    "lognormal": _lognormal,
    "bimodal": _bimodal,
    "constant": _constant,
    "all zeros": _zeros,
    "60 % zeros": _zeros_and_lognormal,
}


def assert_figures(row: RouteMetrics | OperationMetrics, values: list[float]) -> None:
    assert row.min_duration_ms == min(values)
    assert row.max_duration_ms == max(values)
    got = (row.p50_duration_ms, row.p95_duration_ms, row.p99_duration_ms)
    for q, value in zip(QUANTILES, got, strict=True):
        exact = nearest_rank(values, q)
        if exact == 0.0:
            assert value == 0.0, f"p{q * 100:g}"
        else:
            assert value == pytest.approx(exact, rel=0.02), f"p{q * 100:g}"


@pytest.mark.parametrize("name", DATASETS)
def test_percentiles_of_one_hour(name: str) -> None:
    values = DATASETS[name](random.Random(name))
    storage = MemoryMetricsStorage()
    for i, value in enumerate(values):
        at = T0.replace(minute=0) + timedelta(seconds=i % 3600)
        storage.record_route_metric("/hour", "GET", True, value, at=at)
        storage.record_operation_metric("hour", True, value, at=at)
    (route,) = storage.get_route_metrics().rows
    (operation,) = storage.get_operation_metrics().rows
    assert route.total_requests == operation.total_executions == N
    assert_figures(route, values)
    assert_figures(operation, values)


def _bucket_of(at: datetime, bucket: str) -> date | None:
    """The UTC day or ISO week (its Monday) of an event; None for the single ``all`` bucket."""
    day = at.astimezone(UTC).date()
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return None


@pytest.mark.parametrize("bucket", ["day", "week", "all"])
@pytest.mark.parametrize("name", DATASETS)
def test_percentiles_of_buckets_merged_from_many_hours(name: str, bucket: str) -> None:
    values = DATASETS[name](random.Random(f"{name} {bucket}"))
    storage = MemoryMetricsStorage()
    expected: dict[date | None, list[float]] = {}
    hours = set()
    for i, value in enumerate(values):
        at = T0 + timedelta(minutes=7 * i)  # 350 hours over 16 days and three ISO weeks
        hours.add(at.replace(minute=0))
        storage.record_route_metric("/spread", "POST", i % 5 != 0, value, at=at)
        storage.record_operation_metric("spread", True, value, at=at)
        expected.setdefault(_bucket_of(at, bucket), []).append(value)
    assert len(expected) == {"day": 16, "week": 3, "all": 1}[bucket]
    routes = storage.get_route_metrics(bucket=bucket).rows
    operations = storage.get_operation_metrics(bucket=bucket).rows
    assert len(routes) == len(operations) == len(expected)
    for rows in (routes, operations):
        for row in rows:
            values_of_row = expected[None if bucket == "all" else row.bucket_start.date()]
            assert_figures(row, values_of_row)
    # Reading merges copies: the hourly cells keep their own histograms.
    routes_by_hour = storage.get_route_metrics(bucket="hour").rows
    assert len(routes_by_hour) == len(hours)
    assert storage.get_route_metrics(bucket=bucket).rows == routes
    cells, _ = storage.cells()
    assert sum(cell.histogram.total for cell in cells.values()) == N


def test_percentiles_follow_later_records() -> None:
    storage = MemoryMetricsStorage()
    for _ in range(99):
        storage.record_route_metric("/grow", "GET", True, 1.0, at=T0)
    storage.record_route_metric("/grow", "GET", True, 1000.0, at=T0)
    (before,) = storage.get_route_metrics(bucket="all").rows
    assert (before.p50_duration_ms, before.p99_duration_ms) == (1.0, 1.0)
    for _ in range(98):
        storage.record_route_metric("/grow", "GET", True, 1000.0, at=T0 + timedelta(hours=30))
    (after,) = storage.get_route_metrics(bucket="all").rows
    assert after.p50_duration_ms == 1.0  # rank 99 of 198
    assert after.p95_duration_ms == pytest.approx(1000.0, rel=0.01)
    assert after.p99_duration_ms == pytest.approx(1000.0, rel=0.01)
    (first_hour, _) = storage.get_route_metrics(bucket="hour").rows
    assert first_hour.p99_duration_ms == 1.0


def test_cells_hold_the_histogram_of_their_durations() -> None:
    storage = MemoryMetricsStorage()
    rng = random.Random(7)
    values = [rng.choice([0.0, rng.expovariate(0.1)]) for _ in range(500)]
    for value in values:
        storage.record_operation_metric("job", True, value, at=T0)
    _, operations = storage.cells()
    (cell,) = operations.values()
    assert cell.histogram == Histogram.of(values)
    # cells() hands out copies.
    cell.histogram.add(5.0)
    _, again = storage.cells()
    assert next(iter(again.values())).histogram == Histogram.of(values)
