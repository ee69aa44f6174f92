"""The memory storage: validation, aggregation, buckets, the key cap, track_operation, from_env."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

import pgmetrics
from pgmetrics import MemoryMetricsStorage, TimeRange, track_operation
from pgmetrics.cells import OVERFLOW
from pgmetrics.config import load_settings
from pgmetrics.times import EARLIEST

SHUTDOWN = "OBSERVABILITY_METRICS_SHUTDOWN_TIMEOUT"
T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)  # a Monday


@pytest.fixture
def storage() -> MemoryMetricsStorage:
    return MemoryMetricsStorage()


@pytest.fixture
def module_storage() -> Iterator[MemoryMetricsStorage]:
    storage = MemoryMetricsStorage()
    previous = pgmetrics.configure(storage)
    try:
        yield storage
    finally:
        pgmetrics.configure(previous)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "GET", True, 1.0), "route must be 1 to 1024 characters long, got 0"),
        (("x" * 1025, "GET", True, 1.0), "got 1025"),
        (("/a\x00b", "GET", True, 1.0), "NUL"),
        (("/a\udc80", "GET", True, 1.0), "surrogates"),
        ((None, "GET", True, 1.0), "route must be a str"),
        ((["/a"], "GET", True, 1.0), "route must be a str"),
        (("/a", "FETCH", True, 1.0), "method must be one of"),
        (("/a", None, True, 1.0), "method must be one of"),
        (("/a", ["GET"], True, 1.0), "method must be one of"),
        (("/a", {"GET": 1}, True, 1.0), "method must be one of"),
        (("/a", bytearray(b"GET"), True, 1.0), "method must be one of"),
        (("/a", "GET", 1, 1.0), "success must be a bool"),
        (("/a", "GET", None, 1.0), "success must be a bool"),
        (("/a", "GET", True, math.nan), "duration_ms must be a finite number >= 0"),
        (("/a", "GET", True, math.inf), "duration_ms must be a finite number >= 0"),
        (("/a", "GET", True, -0.5), "duration_ms must be a finite number >= 0"),
        (("/a", "GET", True, -1), "duration_ms must be a finite number >= 0"),
        (("/a", "GET", True, 10**400), "duration_ms must be a finite number >= 0"),
        (("/a", "GET", True, "12"), "duration_ms must be a number"),
        (("/a", "GET", True, True), "duration_ms must be a number"),
        (("/a", "GET", True, None), "duration_ms must be a number"),
        (("/a", "GET", True, 1.0, datetime(2026, 3, 1)), "timezone-aware"),
        (("/a", "GET", True, 1.0, "2026-03-01"), "at must be a datetime"),
        (
            ("/a", "GET", True, 1.0, datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))),
            "out of range",
        ),
    ],
)
def test_invalid_route_arguments_raise_value_error(
    storage: MemoryMetricsStorage, args: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        storage.record_route_metric(*args)  # type: ignore[arg-type]
    assert storage.get_route_metrics().rows == ()


def test_invalid_operation_arguments_raise_value_error(storage: MemoryMetricsStorage) -> None:
    for args in [("", True, 1.0), ("x" * 1025, True, 1.0), ("job", "yes", 1.0), ("job", True, -1)]:
        with pytest.raises(ValueError, match=r"operation|success|duration_ms"):
            storage.record_operation_metric(*args)  # type: ignore[arg-type]
    assert storage.get_operation_metrics().rows == ()


def test_names_up_to_1024_characters_and_other_numbers_are_accepted(
    storage: MemoryMetricsStorage,
) -> None:
    storage.record_route_metric("é" * 1024, "get", True, 1)
    storage.record_route_metric("é" * 1024, "Get", False, Decimal("2.5"))
    storage.record_route_metric("é" * 1024, "GET", True, Fraction(1, 2))
    (row,) = storage.get_route_metrics().rows
    assert (row.method, row.total_requests, row.failed, row.total_duration_ms) == ("GET", 3, 1, 4.0)


def test_aggregates_per_key_and_hour(storage: MemoryMetricsStorage) -> None:
    storage.record_route_metric("/users/{id}", "GET", True, 10.0, at=T0)
    storage.record_route_metric("/users/{id}", "get", False, 30.0, at=T0 + timedelta(minutes=40))
    storage.record_route_metric("/users/{id}", "GET", True, 5.0, at=T0 + timedelta(hours=1))
    storage.record_route_metric("/users/{id}", "POST", True, 7.0, at=T0)
    rows = storage.get_route_metrics().rows
    assert [(r.bucket_start, r.method, r.total_requests) for r in rows] == [
        (datetime(2026, 3, 2, 10, tzinfo=UTC), "GET", 2),
        (datetime(2026, 3, 2, 10, tzinfo=UTC), "POST", 1),
        (datetime(2026, 3, 2, 11, tzinfo=UTC), "GET", 1),
    ]
    first = rows[0]
    assert (first.successful, first.failed, first.error_rate) == (1, 1, 0.5)
    assert (first.total_duration_ms, first.average_duration_ms) == (40.0, 20.0)
    assert (first.min_duration_ms, first.max_duration_ms) == (10.0, 30.0)
    assert first.last_request_at == T0 + timedelta(minutes=40)
    # Nearest rank of [10, 30]: the first value for p50, the second for p95 and p99 (1 % buckets).
    assert first.p50_duration_ms == pytest.approx(10.0, rel=0.01)
    assert first.p95_duration_ms == pytest.approx(30.0, rel=0.01)
    assert first.p99_duration_ms == pytest.approx(30.0, rel=0.01)
    # One duration: the bucket value is clamped to the exact minimum and maximum.
    assert (rows[2].p50_duration_ms, rows[2].p95_duration_ms, rows[2].p99_duration_ms) == (5.0,) * 3
    assert storage.get_route_metrics(method="post").rows == (rows[1],)
    assert storage.get_route_metrics(route="/other").rows == ()


def test_threads_aggregate_without_losing_events(storage: MemoryMetricsStorage) -> None:
    def work() -> None:
        for i in range(20_000):
            storage.record_route_metric("/t", "GET", i % 10 != 0, 1.0, at=T0)
            if i % 5000 == 0:
                storage.flush()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (row,) = storage.get_route_metrics().rows
    assert (row.total_requests, row.failed, row.total_duration_ms) == (80_000, 8_000, 80_000.0)


def test_buckets_in_a_time_zone(storage: MemoryMetricsStorage) -> None:
    # Sunday 2026-03-01 23:30 UTC is Monday 00:30 in Berlin (UTC+1).
    for at in (
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
    ):
        storage.record_operation_metric("job", True, 1.0, at=at)
    utc_days = storage.get_operation_metrics(bucket="day").rows
    assert [(r.bucket_start, r.total_executions) for r in utc_days] == [
        (datetime(2026, 3, 1, tzinfo=UTC), 1),
        (datetime(2026, 3, 2, tzinfo=UTC), 1),
        (datetime(2026, 3, 9, tzinfo=UTC), 1),
    ]
    berlin_weeks = storage.get_operation_metrics(bucket="week", tz="Europe/Berlin").rows
    assert [(r.bucket_start, r.total_executions) for r in berlin_weeks] == [
        (datetime(2026, 3, 1, 23, tzinfo=UTC), 2),
        (datetime(2026, 3, 8, 23, tzinfo=UTC), 1),
    ]
    assert str(berlin_weeks[0].bucket_start) == "2026-03-02 00:00:00+01:00"
    utc_weeks = storage.get_operation_metrics(bucket="week").rows
    assert [r.total_executions for r in utc_weeks] == [1, 1, 1]
    (everything,) = storage.get_operation_metrics(bucket="all").rows
    # As in SQL, an "all" bucket starts where the range does; no range reads everything.
    assert (everything.bucket_start, everything.total_executions) == (EARLIEST, 3)


def test_time_ranges_are_half_open_over_hours(storage: MemoryMetricsStorage) -> None:
    for hour in range(5):
        storage.record_route_metric("/r", "GET", True, 1.0, at=T0 + timedelta(hours=hour))
    start = T0.replace(minute=0) + timedelta(hours=1)
    report = storage.get_route_metrics(
        time_range=TimeRange(start, start + timedelta(hours=2)), bucket="all"
    )
    assert report.rows[0].total_requests == 2
    assert report.source == "memory"


def test_bad_read_arguments_raise_value_error(storage: MemoryMetricsStorage) -> None:
    with pytest.raises(ValueError, match="bucket"):
        storage.get_route_metrics(bucket="minute")
    with pytest.raises(ValueError, match="tz"):
        storage.get_route_metrics(tz="Mars/Olympus")
    with pytest.raises(ValueError, match="method"):
        storage.get_route_metrics(method="FETCH")
    with pytest.raises(ValueError, match="time_range"):
        TimeRange(T0, T0 - timedelta(hours=1))


def test_month_buckets_start_on_the_first_at_local_midnight(
    storage: MemoryMetricsStorage,
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-01-31 23:30 UTC is already February 1st in Berlin.
    storage.record_route_metric(
        "/m", "GET", True, 1.0, at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    )
    storage.record_route_metric("/m", "GET", True, 2.0, at=datetime(2026, 2, 27, 12, tzinfo=UTC))
    storage.record_route_metric("/m", "GET", True, 3.0, at=datetime(2026, 1, 15, tzinfo=UTC))
    rows = storage.get_route_metrics(bucket="month", tz="Europe/Berlin").rows
    assert [(row.bucket_start, row.total_requests) for row in rows] == [
        (datetime(2026, 1, 1, tzinfo=berlin), 1),
        (datetime(2026, 2, 1, tzinfo=berlin), 2),
    ]


def test_keys_past_the_cap_are_counted_under_overflow() -> None:
    storage = MemoryMetricsStorage(max_keys=3)
    for i in range(10):
        storage.record_route_metric(f"/r{i}", "GET", i % 2 == 0, float(i), at=T0)
        storage.record_route_metric("/r0", "GET", True, 1.0, at=T0)
    storage.record_route_metric("/next-hour", "POST", True, 1.0, at=T0 + timedelta(hours=1))
    rows = {
        (r.route, r.method, r.bucket_start.hour if r.bucket_start else -1): r
        for r in storage.get_route_metrics().rows
    }
    assert sorted(rows) == [
        ("/next-hour", "POST", 11),
        ("/r0", "GET", 10),
        ("/r1", "GET", 10),
        ("/r2", "GET", 10),
        (OVERFLOW, "GET", 10),
    ]
    overflow = rows[(OVERFLOW, "GET", 10)]
    assert (overflow.total_requests, overflow.failed, overflow.total_duration_ms) == (7, 4, 42.0)
    assert rows[("/r0", "GET", 10)].total_requests == 11
    assert storage.overflowed_events == 7


def test_track_operation_as_context_manager_and_decorator(
    module_storage: MemoryMetricsStorage,
) -> None:
    with track_operation("block"):
        pass
    with pytest.raises(KeyError), track_operation("block"):
        raise KeyError("x")

    @track_operation("decorated")
    def work(x: int) -> int:
        if x < 0:
            raise ValueError("negative")
        return x * 2

    assert work(2) == 4
    with pytest.raises(ValueError, match="negative"):
        work(-1)
    assert work.__name__ == "work"
    rows = {r.operation: r for r in pgmetrics.get_operation_metrics().rows}
    assert (rows["block"].successful, rows["block"].failed) == (1, 1)
    assert (rows["decorated"].successful, rows["decorated"].failed) == (1, 1)
    assert rows["block"].min_duration_ms >= 0


def test_track_operation_async() -> None:
    storage = MemoryMetricsStorage()

    @track_operation("fetch", storage=storage)
    async def fetch(fail: bool) -> str:
        await asyncio.sleep(0.01)
        if fail:
            raise RuntimeError("down")
        return "ok"

    async def scenario() -> None:
        assert await fetch(False) == "ok"
        with pytest.raises(RuntimeError):
            await fetch(True)
        async with track_operation("block", storage=storage):
            await asyncio.sleep(0)
        report = await storage.aget_operation_metrics(operation="fetch")
        (row,) = report.rows
        assert (row.successful, row.failed) == (1, 1)
        assert row.min_duration_ms >= 10.0

    asyncio.run(scenario())
    assert [r.operation for r in storage.get_operation_metrics().rows] == ["block", "fetch"]


def test_track_operation_rejects_a_bad_name() -> None:
    with pytest.raises(ValueError, match="operation"):
        track_operation("")


def test_module_level_functions(module_storage: MemoryMetricsStorage) -> None:
    pgmetrics.record_route_metric("/m", "GET", True, 2.0)
    pgmetrics.record_operation_metric("m", False, 3.0)
    assert pgmetrics.flush() is True
    assert pgmetrics.get_route_metrics().rows[0].total_requests == 1
    assert pgmetrics.get_operation_metrics().rows[0].failed == 1
    assert pgmetrics.get_storage() is module_storage


def test_from_env_defaults_to_memory() -> None:
    storage = pgmetrics.from_env({})
    assert isinstance(storage, MemoryMetricsStorage)
    settings = load_settings({})
    assert (settings.batch_interval, settings.max_keys, settings.shutdown_timeout) == (
        5.0,
        10_000,
        10.0,
    )


def test_from_env_database_builds_without_connecting() -> None:
    storage = pgmetrics.from_env(
        {
            "OBSERVABILITY_METRICS_STORAGE": "database",
            "DATABASE_URL": "host=127.0.0.1 port=1 dbname=nowhere",
            "OBSERVABILITY_METRICS_BATCH_INTERVAL": "250",
            "OBSERVABILITY_METRICS_MAX_KEYS": "7",
            "OBSERVABILITY_METRICS_SHUTDOWN_TIMEOUT": "0",
        }
    )
    assert isinstance(storage, pgmetrics.DatabaseMetricsStorage)
    storage.close()


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"OBSERVABILITY_METRICS_STORAGE": "redis"}, "OBSERVABILITY_METRICS_STORAGE"),
        ({"OBSERVABILITY_METRICS_STORAGE": "database"}, "OBSERVABILITY_METRICS_DATABASE_URL"),
        ({"OBSERVABILITY_METRICS_BATCH_INTERVAL": "5s"}, "OBSERVABILITY_METRICS_BATCH_INTERVAL"),
        ({"OBSERVABILITY_METRICS_BATCH_INTERVAL": "0"}, "OBSERVABILITY_METRICS_BATCH_INTERVAL"),
        ({"OBSERVABILITY_METRICS_MAX_KEYS": "many"}, "OBSERVABILITY_METRICS_MAX_KEYS"),
        ({"OBSERVABILITY_METRICS_MAX_KEYS": "0"}, "OBSERVABILITY_METRICS_MAX_KEYS"),
        ({SHUTDOWN: "-1"}, SHUTDOWN),
        ({SHUTDOWN: "nan"}, SHUTDOWN),
        ({"OBSERVABILITY_METRICS_MAX_KEYS": "9" * 400}, "OBSERVABILITY_METRICS_MAX_KEYS"),
        (
            {"OBSERVABILITY_METRICS_BATCH_INTERVAL": "9" * 400},
            "OBSERVABILITY_METRICS_BATCH_INTERVAL",
        ),
        ({"OBSERVABILITY_METRICS_BATCH_INTERVAL": "1" + "0" * 20}, "BATCH_INTERVAL"),
        ({SHUTDOWN: "1e300"}, SHUTDOWN),
    ],
)
def test_from_env_errors_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ValueError, match=variable):
        pgmetrics.from_env(environ)


@pytest.mark.parametrize(
    ("start", "end", "named"),
    [
        ("2026-03-02T10:00:00+00:00", T0, "start"),
        (T0, "2026-03-03", "end"),
        (T0.date(), T0, "start"),
        (T0, (T0 + timedelta(days=1)).date(), "end"),
        (None, T0, "start"),
        (T0, T0.replace(tzinfo=None), "end"),
    ],
)
def test_time_range_of_anything_but_aware_datetimes_raises_value_error(
    start: object, end: object, named: str
) -> None:
    with pytest.raises(ValueError, match=f"time_range: {named} must be a timezone-aware datetime"):
        TimeRange(start, end)  # type: ignore[arg-type]


def test_a_report_is_the_sequence_of_its_rows(storage: MemoryMetricsStorage) -> None:
    storage.record_route_metric("/a", "GET", True, 1.0, at=T0)
    storage.record_route_metric("/b", "GET", False, 2.0, at=T0)
    report = storage.get_route_metrics()
    assert [row.route for row in report] == ["/a", "/b"]
    assert len(report) == 2
    assert report[0] is report.rows[0]
    assert report[-1].route == "/b"
    assert report[:1] == report.rows[:1]
    assert list(reversed(report)) == list(reversed(report.rows))
    assert report.rows[1] in report
    first, second = report
    assert (first.route, second.failed) == ("/a", 1)
    assert (report.source, report.error) == ("memory", None)
    empty = storage.get_operation_metrics()
    assert len(empty) == 0
    assert list(empty) == []
    assert not empty
    with pytest.raises(IndexError):
        empty[0]


def test_memory_keeps_the_last_max_hours_and_counts_what_it_dropped() -> None:
    storage = MemoryMetricsStorage(max_hours=24)
    for hour in range(48):
        storage.record_route_metric("/hourly", "GET", True, 1.0, T0 + timedelta(hours=hour))
    rows = storage.get_route_metrics().rows
    assert [row.bucket_start for row in rows] == [
        (T0 + timedelta(hours=hour)).replace(minute=0) for hour in range(24, 48)
    ]
    assert storage.expired_events == 24
    # An event older than the hours kept is dropped too, and counted.
    storage.record_route_metric("/hourly", "GET", True, 1.0, T0)
    assert len(storage.get_route_metrics().rows) == 24
    assert storage.expired_events == 25


def test_memory_holds_at_most_max_cells_and_frees_the_room_of_dropped_hours() -> None:
    storage = MemoryMetricsStorage(max_cells=10, max_hours=1)
    for i in range(20):
        storage.record_route_metric(f"/cells/{i}", "GET", True, 1.0, T0)
    routes = {row.route for row in storage.get_route_metrics().rows}
    assert len(routes) == 11
    assert OVERFLOW in routes
    assert storage.overflowed_events == 10
    later = T0 + timedelta(hours=1)
    # The room of an hour dropped is free once the store has dropped it, at a read or flush.
    storage.record_route_metric("/later/0", "GET", True, 1.0, later)
    storage.flush()
    for i in range(1, 11):
        storage.record_route_metric(f"/later/{i}", "GET", True, 1.0, later)
    routes = {row.route for row in storage.get_route_metrics().rows}
    assert routes == {f"/later/{i}" for i in range(1, 11)} | {OVERFLOW}
    assert storage.expired_events == 20


@pytest.mark.parametrize("name", ["max_hours", "max_cells", "max_keys"])
@pytest.mark.parametrize("value", [0, 1.5, "abc", math.inf])
def test_memory_bounds_must_be_positive_integers(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        MemoryMetricsStorage(**{name: value})  # type: ignore[arg-type]
