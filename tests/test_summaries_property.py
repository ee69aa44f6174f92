"""Property tests: the summary functions against an independent computation in Python.

Events with explicit times around DST transitions (America/New_York, Europe/Berlin), UTC hour
and day edges and the half-hour zone Asia/Kolkata are recorded through the recording functions,
half of them folded into the tiers and half left pending; sometimes run_retention then expires
the hourly detail before a UTC midnight, and sometimes the zone is a report zone. Every column of
every row of every bucket kind is compared with what zoneinfo and the documented rules
(docs/TIERS.md) give, the percentiles with those of the Python histogram (docs/HISTOGRAM.md) of
the bucket's durations:

- an hourly row counts when its UTC hour starts in [start, end) (the bounds rounded up to hours);
- hour buckets are UTC hours read from the hourly (detail) tier only;
- day / week / month buckets are local days / ISO weeks / months in tz; each hour counts in the
  one containing its start; bucket all is one row per key with bucket_start = start;
- whole periods of the rollup read (UTC days, weeks and months in UTC; the zone's days for a
  report zone; UTC days for bucket all; UTC days older than the detail for another zone, placed
  at their UTC noon) count whole; a period at the edge of the range that started before the
  retention horizon counts whole too; every other hour counts when it is still held.

Durations are multiples of 1/4 ms, so every sum is exact in double precision and so is every
comparison.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgmetrics.histogram import Histogram
from tests.conftest import Database

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
ANCHORS = (
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York springs forward (02:00 EST -> 03:00 EDT)
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York falls back (02:00 EDT -> 01:00 EST)
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # Berlin springs forward
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # Berlin falls back
    datetime(2026, 3, 1, 18, 30, tzinfo=UTC),  # midnight in Kolkata, inside a UTC hour
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # the last microsecond of a year
)
ROUTE_KEYS = (("/a", "GET"), ("/a", "post"), ("/b/{id}", "get"))
OPERATION_KEYS = ("db.query", "send_email")

# Generated histories checked against a model in the database: tens of seconds per test.
pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Event:
    key: int
    success: bool
    duration_ms: float
    at: datetime


@dataclass(frozen=True)
class Case:
    events: tuple[Event, ...]
    start: datetime
    end: datetime
    tz: str
    cutoff: datetime | None  # run_retention expires the hourly rows before this UTC midnight
    report_zone: bool  # tz's local days are rolled up (add_report_zone)


def _floor_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(at: datetime) -> datetime:
    floor = _floor_hour(at)
    return floor if floor == at else floor + HOUR


def _floor_day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _local_start(at: datetime, bucket: str, tz: str) -> datetime:
    """Local midnight (day), Monday midnight (week) or first midnight (month) of ``at``, in UTC."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    day = local.date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    elif bucket == "month":
        day = day.replace(day=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _next_start(start: datetime, bucket: str, tz: str) -> datetime:
    """The start of the period after the one starting at ``start``."""
    local = start.astimezone(ZoneInfo(tz)).date()
    if bucket == "month":
        following = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        following = local + timedelta(days=7 if bucket == "week" else 1)
    return datetime(following.year, following.month, following.day, tzinfo=ZoneInfo(tz)).astimezone(
        UTC
    )


def _times() -> st.SearchStrategy[datetime]:
    near_edge = st.builds(
        lambda hours, micros: timedelta(hours=hours, microseconds=micros),
        st.integers(-60, 60),
        st.sampled_from([0, 1, -1, 1_800_000_000]),
    )
    anywhere = st.builds(
        lambda micros: timedelta(microseconds=micros),
        st.integers(-3 * 86_400 * 10**6, 3 * 86_400 * 10**6),
    )
    return st.builds(
        lambda anchor, offset: anchor + offset, st.sampled_from(ANCHORS), near_edge | anywhere
    )


@st.composite
def cases(draw: st.DrawFn, keys: int) -> Case:
    anchor = draw(st.sampled_from(ANCHORS))
    offset = st.integers(-72, 72).map(lambda h: timedelta(hours=h))
    jitter = st.sampled_from(
        [timedelta(0), timedelta(0), timedelta(minutes=30), timedelta(microseconds=1)]
    )
    events = draw(
        st.lists(
            st.builds(
                Event,
                st.integers(0, keys - 1),
                st.booleans(),
                st.integers(0, 4000).map(lambda q: q / 4),
                st.builds(lambda a, o, j: a + o + j, st.just(anchor), offset, jitter) | _times(),
            ),
            max_size=25,
        )
    )
    start = anchor + draw(offset) + draw(jitter)
    end = start + draw(st.integers(0, 6 * 24).map(lambda h: timedelta(hours=h))) + draw(jitter)
    cutoff = draw(st.none() | st.integers(-3, 3).map(lambda d: _floor_day(anchor) + d * DAY))
    tz = draw(st.sampled_from(ZONES))
    return Case(tuple(events), start, end, tz, cutoff, tz != "UTC" and draw(st.booleans()))


@dataclass
class Cell:
    total: int = 0
    successful: int = 0
    total_duration_ms: float = 0.0
    min_duration_ms: float = float("inf")
    max_duration_ms: float = float("-inf")
    last_at: datetime | None = None
    histogram: Histogram = field(default_factory=Histogram)

    def add(self, events: Sequence[Event], extremes: Sequence[Event] | None = None) -> None:
        for event in events:
            self.total += 1
            self.successful += event.success
            self.total_duration_ms += event.duration_ms
            self.histogram.add(event.duration_ms)
        for event in extremes if extremes is not None else events:
            self.min_duration_ms = min(self.min_duration_ms, event.duration_ms)
            self.max_duration_ms = max(self.max_duration_ms, event.duration_ms)
            self.last_at = event.at if self.last_at is None else max(self.last_at, event.at)

    def columns(self) -> tuple[object, ...]:
        failed = self.total - self.successful
        return (
            self.total,
            self.successful,
            failed,
            failed / self.total,
            self.total_duration_ms,
            self.total_duration_ms / self.total,
            self.min_duration_ms,
            self.max_duration_ms,
            *(
                self.histogram.quantile(q, self.min_duration_ms, self.max_duration_ms)
                for q in (0.5, 0.95, 0.99)
            ),
            self.last_at,
        )


def _rollup_read(case: Case, bucket: str) -> tuple[str, str, timedelta] | None:
    """The rollup the summary reads whole periods from: grain, zone and the offset at which its
    rows are placed into buckets; None for hour buckets."""
    if bucket == "hour":
        return None
    if bucket == "all":
        return "day", "UTC", timedelta(0)
    if case.tz == "UTC":
        return bucket, "UTC", timedelta(0)
    if case.report_zone:
        return "day", case.tz, timedelta(0)
    return "day", "UTC", timedelta(hours=12)


def expected(
    case: Case, bucket: str, key_of: Sequence[tuple[str, ...]], wanted: set[int]
) -> list[tuple[object, ...]]:
    """The summary rows the documented rules give, computed from the events alone."""
    hour_start, hour_end = _ceil_hour(case.start), _ceil_hour(case.end)
    horizon = case.cutoff if case.cutoff is not None else datetime.min.replace(tzinfo=UTC)
    events = [e for e in case.events if e.key in wanted]
    read = _rollup_read(case, bucket)
    mid_start = mid_end = hour_end
    if read is not None:
        grain, zone, offset = read
        mid_start = _local_start(hour_start, grain, zone)
        if _ceil_hour(mid_start) < hour_start and mid_start >= horizon:
            mid_start = _next_start(mid_start, grain, zone)
        mid_end = _local_start(hour_end, grain, zone)
        if _ceil_hour(mid_end) < hour_end and mid_end < horizon:
            mid_end = _next_start(mid_end, grain, zone)
        if offset:
            mid_end = min(mid_end, horizon)
        if mid_start >= mid_end:
            mid_start = mid_end = hour_end
    cover_start, cover_end = _ceil_hour(mid_start), _ceil_hour(mid_end)

    def place(at: datetime) -> datetime:
        if bucket == "all":
            return case.start
        if bucket == "hour":
            return _floor_hour(at)
        return _local_start(at, bucket, case.tz)

    cells: dict[tuple[object, ...], Cell] = {}
    for event in events:
        hour = _floor_hour(event.at)
        if read is not None:
            grain, zone, offset = read
            period = _local_start(hour, grain, zone)
            if mid_start <= period < mid_end:
                # A whole rollup row, placed at its start (or its UTC noon).
                cells.setdefault((place(period + offset), *key_of[event.key]), Cell()).add([event])
                continue
        in_hours = hour_start <= hour < cover_start or cover_end <= hour < hour_end
        if in_hours and hour >= horizon:
            cells.setdefault((place(hour), *key_of[event.key]), Cell()).add([event])
    return [(*k, *c.columns()) for k, c in sorted(cells.items(), key=lambda item: item[0])]


@pytest.fixture
def conn(db: Database) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with db.connect() as connection:
        yield connection


def _record(conn: psycopg.Connection[tuple[object, ...]], case: Case, kind: str) -> None:
    conn.execute(
        "TRUNCATE pgmetrics.route_metrics, pgmetrics.route_metrics_rollup, "
        "pgmetrics.route_events, pgmetrics.operation_metrics, pgmetrics.operation_metrics_rollup, "
        "pgmetrics.operation_events, pgmetrics.retention_runs, pgmetrics.report_zones"
    )
    # Empty rollups hold every hour before any watermark: start each example where time is.
    conn.execute(
        "UPDATE pgmetrics.rollup_watermark SET rolled_until = date_trunc('hour', now(), 'UTC')"
    )
    if case.report_zone:
        conn.execute("SELECT pgmetrics.add_report_zone(%s)", (case.tz,))
    # The first half of the events is folded into the tiers, the second half stays pending, so
    # the summaries add pending events to folded rows of the same keys and hours.
    half = len(case.events) // 2
    with conn.pipeline():
        for i, e in enumerate(case.events):
            if i == half:
                conn.execute("SELECT pgmetrics.fold_events()")
            if kind == "route":
                route, method = ROUTE_KEYS[e.key]
                conn.execute(
                    "SELECT pgmetrics.record_route_metric(%s, %s, %s, %s, %s)",
                    (route, method, e.success, e.duration_ms, e.at),
                )
            else:
                conn.execute(
                    "SELECT pgmetrics.record_operation_metric(%s, %s, %s, %s)",
                    (OPERATION_KEYS[e.key], e.success, e.duration_ms, e.at),
                )
    if case.cutoff is not None:
        # A retention run whose detail cutoff is case.cutoff (retention_days is 90): it folds, then
        # deletes the hours before the cutoff, and the summaries know that horizon.
        conn.execute("SELECT pgmetrics.run_retention(%s)", (case.cutoff + 90 * DAY,))


@SETTINGS
@given(
    case=cases(len(ROUTE_KEYS)),
    filters=st.sampled_from([(None, None), ("/a", None), (None, "gEt"), ("/a", "POST")]),
)
def test_route_summaries_match_model(
    conn: psycopg.Connection[tuple[object, ...]], case: Case, filters: tuple[str | None, str | None]
) -> None:
    _record(conn, case, "route")
    route, method = filters
    keys = [(r, m.upper()) for r, m in ROUTE_KEYS]
    wanted = {
        i
        for i, (r, m) in enumerate(keys)
        if (route is None or r == route) and (method is None or m == method.upper())
    }
    for bucket in ("hour", "day", "week", "month", "all"):
        rows = conn.execute(
            "SELECT * FROM pgmetrics.route_metrics_summary(%s, %s, %s, %s, %s, %s)",
            (case.start, case.end, bucket, route, method, case.tz),
        ).fetchall()
        assert rows == expected(case, bucket, keys, wanted), bucket


@SETTINGS
@given(case=cases(len(OPERATION_KEYS)), operation=st.sampled_from([None, "send_email"]))
def test_operation_summaries_match_model(
    conn: psycopg.Connection[tuple[object, ...]], case: Case, operation: str | None
) -> None:
    _record(conn, case, "operation")
    keys = [(o,) for o in OPERATION_KEYS]
    wanted = {i for i, (o,) in enumerate(keys) if operation is None or o == operation}
    for bucket in ("hour", "day", "week", "month", "all"):
        rows = conn.execute(
            "SELECT * FROM pgmetrics.operation_metrics_summary(%s, %s, %s, %s, %s)",
            (case.start, case.end, bucket, operation, case.tz),
        ).fetchall()
        assert rows == expected(case, bucket, keys, wanted), bucket


@SETTINGS
@given(case=cases(len(ROUTE_KEYS)))
def test_day_rollup_sums_every_event(
    conn: psycopg.Connection[tuple[object, ...]], case: Case
) -> None:
    """Once every hour is rolled up, the day rollup holds every event of its UTC day, whatever
    left the hourly tier."""
    _record(conn, case, "route")
    conn.execute("SELECT pgmetrics._fold_events(true, 'infinity')")
    rows = conn.execute(
        "SELECT route, method, period_start, total_requests, successful, total_duration_ms, "
        "min_duration_ms, max_duration_ms, last_request_at "
        "FROM pgmetrics.route_metrics_rollup WHERE grain = 'day' AND zone = 'UTC' "
        "ORDER BY route, method, period_start"
    ).fetchall()
    days: dict[tuple[str, str, datetime], Cell] = {}
    for e in case.events:
        route, method = ROUTE_KEYS[e.key]
        days.setdefault((route, method.upper(), _floor_day(e.at)), Cell()).add([e])
    assert rows == [
        (
            *k,
            c.total,
            c.successful,
            c.total_duration_ms,
            c.min_duration_ms,
            c.max_duration_ms,
            c.last_at,
        )
        for k, c in sorted(days.items())
    ]
