"""Property tests: the summary functions against an independent computation in Python.

Events with explicit times around DST transitions (America/New_York, Europe/Berlin), UTC hour
and day edges and the half-hour zone Asia/Kolkata are recorded through the recording functions;
sometimes the hourly detail before a cutoff is then deleted, as retention does. Every column of
every row of every bucket kind is compared with what zoneinfo and the documented rules give, the
percentiles with those of the Python histogram (docs/HISTOGRAM.md) of the bucket's durations:

- an hourly row counts when its UTC hour starts in [start, end) (the bounds rounded up to hours);
- hour buckets are UTC hours read from the hourly (detail) tier only;
- day / week buckets are local days / ISO weeks in tz; each hour counts in the one containing its
  start; bucket all is one row per key with bucket_start = start;
- whole UTC days inside the range come from the daily tier: when each of them is also a whole
  local day (UTC, or bucket all) they count whole; otherwise the hours still held count as above
  and what the day's hours no longer hold counts at the day's UTC noon, with the day's minimum,
  maximum and last time;
- partial UTC days at the edges of the range count only the hours still held.

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
    cutoff: datetime | None  # hourly rows before this UTC hour are deleted


def _floor_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(at: datetime) -> datetime:
    floor = _floor_hour(at)
    return floor if floor == at else floor + HOUR


def _floor_day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _local_start(at: datetime, bucket: str, tz: str) -> datetime:
    """Local midnight (day) or Monday midnight (week) of the instant ``at``, in UTC."""
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    day = local.date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


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
    cutoff = draw(st.none() | st.builds(lambda o: _floor_hour(anchor) + o, offset))
    return Case(tuple(events), start, end, draw(st.sampled_from(ZONES)), cutoff)


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


def expected(
    case: Case, bucket: str, key_of: Sequence[tuple[str, ...]], wanted: set[int]
) -> list[tuple[object, ...]]:
    """The summary rows the documented rules give, computed from the events alone."""
    hour_start, hour_end = _ceil_hour(case.start), _ceil_hour(case.end)
    first_day = _floor_day(hour_start - timedelta(microseconds=1)) + DAY
    whole_days: list[datetime] = []
    day = first_day
    while day + DAY <= hour_end:
        whole_days.append(day)
        day += DAY

    def held(event: Event) -> bool:
        return case.cutoff is None or _floor_hour(event.at) >= case.cutoff

    def place(at: datetime) -> datetime:
        if bucket == "all":
            return case.start
        if bucket == "hour":
            return _floor_hour(at)
        return _local_start(at, bucket, case.tz)

    aligned = bucket == "all" or all(
        _local_start(d, "day", case.tz) == d and _local_start(d + DAY, "day", case.tz) == d + DAY
        for d in whole_days
    )
    cells: dict[tuple[object, ...], Cell] = {}

    def cell(at: datetime, key: int) -> Cell:
        return cells.setdefault((place(at), *key_of[key]), Cell())

    in_range = [
        e for e in case.events if e.key in wanted and hour_start <= _floor_hour(e.at) < hour_end
    ]
    for event in in_range:
        whole = bucket != "hour" and _floor_day(event.at) in whole_days
        if held(event) or (whole and aligned):
            cell(event.at, event.key).add([event])
    if bucket != "hour" and not aligned:
        for d in whole_days:
            for key in wanted:
                day_events = [e for e in in_range if e.key == key and _floor_day(e.at) == d]
                expired = [e for e in day_events if not held(e)]
                if expired:
                    cell(d + timedelta(hours=12), key).add(expired, extremes=day_events)
    return [(*k, *c.columns()) for k, c in sorted(cells.items(), key=lambda item: item[0])]


@pytest.fixture
def conn(db: Database) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with db.connect() as connection:
        yield connection


def _record(conn: psycopg.Connection[tuple[object, ...]], case: Case, kind: str) -> None:
    conn.execute(
        "TRUNCATE pgmetrics.route_metrics, pgmetrics.route_metrics_daily, pgmetrics.route_events, "
        "pgmetrics.operation_metrics, pgmetrics.operation_metrics_daily, pgmetrics.operation_events"
    )
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
        # What retention does: fold, then delete the expired hours.
        conn.execute("SELECT pgmetrics.fold_events()")
        table = "route_metrics" if kind == "route" else "operation_metrics"
        conn.execute(
            psycopg.sql.SQL("DELETE FROM pgmetrics.{} WHERE period_start < %s").format(
                psycopg.sql.Identifier(table)
            ),
            (case.cutoff,),
        )


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
    for bucket in ("hour", "day", "week", "all"):
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
    for bucket in ("hour", "day", "week", "all"):
        rows = conn.execute(
            "SELECT * FROM pgmetrics.operation_metrics_summary(%s, %s, %s, %s, %s)",
            (case.start, case.end, bucket, operation, case.tz),
        ).fetchall()
        assert rows == expected(case, bucket, keys, wanted), bucket


@SETTINGS
@given(case=cases(len(ROUTE_KEYS)))
def test_daily_tier_sums_every_event(
    conn: psycopg.Connection[tuple[object, ...]], case: Case
) -> None:
    """The daily tier holds every event of its UTC day, whatever left the hourly tier."""
    _record(conn, case, "route")
    conn.execute("SELECT pgmetrics.fold_events()")
    rows = conn.execute(
        "SELECT route, method, period_start, total_requests, successful, total_duration_ms, "
        "min_duration_ms, max_duration_ms, last_request_at "
        "FROM pgmetrics.route_metrics_daily ORDER BY route, method, period_start"
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
