"""p50 / p95 / p99 of the summaries and the quantile functions against exact nearest-rank values,
for hours and for days, weeks and ranges merged from them, recorded directly or in batches."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from pgmetrics.histogram import Histogram
from tests.conftest import Database
from tests.test_histogram import DISTRIBUTIONS, _assert_close, _exact, _sample

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: the three days share an ISO week
DAYS = 3
PER_HOUR = 250
QS = (0.5, 0.95, 0.99)
COLUMNS = {0.5: "p50_duration_ms", 0.95: "p95_duration_ms", 0.99: "p99_duration_ms"}

Values = dict[datetime, list[float]]  # per UTC hour


def _recorded() -> dict[str, Values]:
    """Per route, the values of each UTC hour of the three days."""
    routes: dict[str, Values] = {}
    for name in sorted(DISTRIBUTIONS):
        values = _sample(name, DAYS * 24 * PER_HOUR)
        routes[f"/{name}"] = {
            START + timedelta(hours=h): values[h * PER_HOUR : (h + 1) * PER_HOUR]
            for h in range(DAYS * 24)
        }
    return routes


def _record_directly(
    conn: psycopg.Connection[tuple[object, ...]], routes: dict[str, Values]
) -> None:
    for route, hours in routes.items():
        for hour, values in hours.items():
            conn.execute(
                "SELECT count(pgmetrics.record_route_metric(%s, 'GET', v > 1, v, %s)) "
                "FROM unnest(%s::float8[]) AS v",
                (route, hour + timedelta(minutes=30), values),
            )
    conn.execute("SELECT pgmetrics.fold_events()")


def _cell(route: str, hour: datetime, values: list[float]) -> dict[str, object]:
    successful = sum(1 for v in values if v > 1)
    return {
        "r": route,
        "m": "GET",
        "h": hour.isoformat(),
        "n": len(values),
        "s": successful,
        "f": len(values) - successful,
        "d": sum(values),
        "lo": min(values),
        "hi": max(values),
        "t": (hour + timedelta(minutes=30)).isoformat(),
        **Histogram.of(values).to_json(),
    }


def _record_in_batches(
    conn: psycopg.Connection[tuple[object, ...]], routes: dict[str, Values]
) -> None:
    # Two batches per hour, so that stored rows and days are merged with what comes later.
    for part in (slice(0, 100), slice(100, None)):
        cells = [
            _cell(route, hour, values[part])
            for route, hours in routes.items()
            for hour, values in hours.items()
        ]
        conn.execute(
            "SELECT pgmetrics.ingest_batch(%s, %s::jsonb, NULL)",
            (uuid.uuid4(), json.dumps(cells)),
        )


RECORDERS: dict[
    str, Callable[[psycopg.Connection[tuple[object, ...]], dict[str, Values]], None]
] = {
    "direct": _record_directly,
    "batch": _record_in_batches,
}


def _grouped(
    hours: Values, bucket_of: Callable[[datetime], datetime]
) -> dict[datetime, list[float]]:
    buckets: dict[datetime, list[float]] = defaultdict(list)
    for hour, values in hours.items():
        buckets[bucket_of(hour)].extend(values)
    return buckets


def _local_day(tz: str) -> Callable[[datetime], datetime]:
    zone = ZoneInfo(tz)

    def bucket_of(hour: datetime) -> datetime:
        local = hour.astimezone(zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    return bucket_of


def _summary(
    conn: psycopg.Connection[tuple[object, ...]], bucket: str, tz: str = "UTC"
) -> dict[tuple[str, datetime], tuple[object, ...]]:
    rows = conn.execute(
        "SELECT route, bucket_start, min_duration_ms, max_duration_ms, total_requests, "
        "p50_duration_ms, p95_duration_ms, p99_duration_ms "
        "FROM pgmetrics.route_metrics_summary(%s, %s, %s, tz => %s)",
        (START, START + timedelta(days=DAYS), bucket, tz),
    ).fetchall()
    return {(str(r[0]), r[1]): r[2:] for r in rows}  # type: ignore[misc]


def _check_buckets(
    rows: dict[tuple[str, datetime], tuple[object, ...]],
    routes: dict[str, dict[datetime, list[float]]],
) -> int:
    checked = 0
    for route, buckets in routes.items():
        for start, values in buckets.items():
            low, high, total, *percentiles = rows[(route, start)]
            assert (low, high, total) == (min(values), max(values), len(values)), (route, start)
            for q, estimate in zip(QS, percentiles, strict=True):
                _assert_close(estimate, _exact(values, q), q, values)  # type: ignore[arg-type]
            checked += 1
    assert len(rows) == checked
    return checked


@pytest.mark.slow
@pytest.mark.parametrize("recorder", sorted(RECORDERS))
def test_summary_percentiles_are_within_two_percent(db: Database, recorder: str) -> None:
    routes = _recorded()
    with db.connect() as conn:
        RECORDERS[recorder](conn, routes)
        hourly = {route: dict(hours) for route, hours in routes.items()}
        assert _check_buckets(_summary(conn, "hour"), hourly) == len(routes) * DAYS * 24

        utc_days = {r: _grouped(h, _local_day("UTC")) for r, h in routes.items()}
        assert _check_buckets(_summary(conn, "day"), utc_days) == len(routes) * DAYS

        # Local days straddle UTC days: merged from hours, not read from the daily tier.
        local = {r: _grouped(h, _local_day("America/New_York")) for r, h in routes.items()}
        _check_buckets(_summary(conn, "day", "America/New_York"), local)

        weeks = {r: _grouped(h, lambda _hour: START) for r, h in routes.items()}
        _check_buckets(_summary(conn, "week"), weeks)
        _check_buckets(_summary(conn, "all"), weeks)


def test_percentiles_survive_expired_detail(db: Database) -> None:
    routes = _recorded()
    expired_day = START + timedelta(days=1)
    with db.connect() as conn:
        _record_in_batches(conn, routes)
        # A retention run whose detail cutoff ends the expired day (retention_days is 90): the
        # hours of the first two days go, their UTC days stay in the day rollup.
        kept = expired_day + timedelta(days=1)
        conn.execute("SELECT pgmetrics.run_retention(%s)", (kept + timedelta(days=90),))

        berlin = _local_day("Europe/Berlin")

        def bucket_of(hour: datetime) -> datetime:
            # Expired hours count in the local day of their UTC day's noon.
            if hour < kept:
                return berlin(hour.replace(hour=12))
            return berlin(hour)

        expected = {r: _grouped(h, bucket_of) for r, h in routes.items()}
        _check_buckets(_summary(conn, "day", "Europe/Berlin"), expected)
        everything = {r: _grouped(h, lambda _hour: START) for r, h in routes.items()}
        _check_buckets(_summary(conn, "all", "Europe/Berlin"), everything)


@pytest.mark.slow
def test_percentiles_survive_retention(db: Database) -> None:
    routes = _recorded()
    with db.connect() as conn:
        _record_directly(conn, routes)
        conn.execute("SELECT pgmetrics.set_setting('retention_days', 1)")
        conn.execute("SELECT pgmetrics.run_retention(%s)", (START + timedelta(days=DAYS + 2),))
        row = conn.execute("SELECT count(*) FROM pgmetrics.route_metrics").fetchone()
        assert row == (0,)
        # Only the daily tier is left: days, weeks and ranges keep their percentiles.
        utc_days = {r: _grouped(h, _local_day("UTC")) for r, h in routes.items()}
        _check_buckets(_summary(conn, "day"), utc_days)
        weeks = {r: _grouped(h, lambda _hour: START) for r, h in routes.items()}
        _check_buckets(_summary(conn, "week"), weeks)
        every = [v for hours in routes.values() for values in hours.values() for v in values]
        row = conn.execute(
            "SELECT pgmetrics.route_duration_quantile(0.99, %s, %s)",
            (START, START + timedelta(days=DAYS)),
        ).fetchone()
        assert row is not None
        _assert_close(row[0], _exact(every, 0.99), 0.99, every)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("recorder", sorted(RECORDERS))
def test_duration_quantile_over_any_range(db: Database, recorder: str) -> None:
    routes = _recorded()
    ranges = [
        (START, START + timedelta(days=DAYS)),
        # Partial days at both ends: hours of the detail tier around a day of the daily tier.
        (START + timedelta(hours=10), START + timedelta(days=2, hours=15)),
        (START + timedelta(hours=30), START + timedelta(hours=31)),
    ]
    with db.connect() as conn:
        RECORDERS[recorder](conn, routes)
        for start, end in ranges:
            in_range = {
                route: [v for hour, vs in hours.items() if start <= hour < end for v in vs]
                for route, hours in routes.items()
            }
            for q in (0.0, 0.25, 0.5, 0.9, 0.999, 1.0):
                for route, values in in_range.items():
                    row = conn.execute(
                        "SELECT pgmetrics.route_duration_quantile(%s, %s, %s, %s, 'get')",
                        (q, start, end, route),
                    ).fetchone()
                    assert row is not None
                    _assert_close(row[0], _exact(values, q), q, values)  # type: ignore[arg-type]
                every = [v for values in in_range.values() for v in values]
                row = conn.execute(
                    "SELECT pgmetrics.route_duration_quantile(%s, %s, %s)", (q, start, end)
                ).fetchone()
                assert row is not None
                _assert_close(row[0], _exact(every, q), q, every)  # type: ignore[arg-type]


def test_operation_percentiles_and_quantile(db: Database) -> None:
    values = _sample("lognormal_slow", 24 * PER_HOUR)
    hours = {
        START + timedelta(hours=h): values[h * PER_HOUR : (h + 1) * PER_HOUR] for h in range(24)
    }
    with db.connect() as conn:
        for hour, vs in hours.items():
            conn.execute(
                "SELECT count(pgmetrics.record_operation_metric('job', true, v, %s)) "
                "FROM unnest(%s::float8[]) AS v",
                (hour, vs),
            )
        # Half the events stay pending: summaries count them before the fold as after it.
        for fold in (False, True):
            if fold:
                conn.execute("SELECT pgmetrics.fold_events()")
            for bucket, expected in (("hour", hours), ("day", {START: values})):
                rows = conn.execute(
                    "SELECT bucket_start, p50_duration_ms, p95_duration_ms, p99_duration_ms "
                    "FROM pgmetrics.operation_metrics_summary(%s, %s, %s, 'job')",
                    (START, START + timedelta(days=1), bucket),
                ).fetchall()
                assert len(rows) == len(expected)
                for start, *percentiles in rows:
                    vs = expected[start]  # type: ignore[index]
                    for q, estimate in zip(QS, percentiles, strict=True):
                        _assert_close(estimate, _exact(vs, q), q, vs)  # type: ignore[arg-type]
            row = conn.execute(
                "SELECT pgmetrics.operation_duration_quantile(0.95, %s, %s, 'job')",
                (START, START + timedelta(days=1)),
            ).fetchone()
            assert row is not None
            _assert_close(row[0], _exact(values, 0.95), 0.95, values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "sqlstate"),
    [
        ("pgmetrics.route_duration_quantile(-0.1, now() - interval '1 day', now())", "22023"),
        ("pgmetrics.route_duration_quantile(1.5, now() - interval '1 day', now())", "22023"),
        ("pgmetrics.route_duration_quantile('NaN', now() - interval '1 day', now())", "22023"),
        ("pgmetrics.route_duration_quantile(NULL, now() - interval '1 day', now())", "22023"),
        ("pgmetrics.operation_duration_quantile(2, now() - interval '1 day', now())", "22023"),
        ("pgmetrics.route_duration_quantile(0.5, now(), now() - interval '1 day')", "22023"),
        ("pgmetrics.route_duration_quantile(0.5, NULL, now())", "22004"),
        (
            "pgmetrics.route_duration_quantile(0.5, now() - interval '1 day', now(), NULL, 'FOO')",
            "22023",
        ),
    ],
)
def test_duration_quantile_rejects_bad_arguments(db: Database, call: str, sqlstate: str) -> None:
    with db.connect() as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(f"SELECT {call}")
    assert caught.value.sqlstate == sqlstate


def test_duration_quantile_of_nothing_is_null(db: Database) -> None:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT pgmetrics.route_duration_quantile(0.5, now() - interval '1 day', now())"
        ).fetchone()
    assert row == (None,)
