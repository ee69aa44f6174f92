"""What the dashboard shows, read through the reader role's functions: a range's keys, its
series by bucket, its merged duration histogram, and the same for the period before."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, LiteralString

import psycopg

from pgmetrics import queries
from pgmetrics.checks import check_method, check_name, check_zone
from pgmetrics.times import parse_timestamp

Kind = Literal["routes", "operations"]
PRESETS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
PARAMETERS = ("view", "range", "start", "end", "tz", "route", "method", "operation")
# The busiest keys whose quantiles the overview draws over time.
TOP_KEYS = 5
# The histogram's growth factor g is exp(LN_GROWTH); a bucket's value is 2 g^k / (g + 1), as
# route_duration_quantile answers it (docs/HISTOGRAM.md).
LN_GROWTH = 0.020000666706669435
LN_MIDPOINT = 0.010050335853501395
QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
# At most this many buckets on a chart's axis (two years of days at the widest custom range).
MAX_POINTS = 800


class DashboardRequestError(ValueError):
    """A malformed parameter of a dashboard read; the message names it."""


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    tz: str
    bucket: str
    preset: str | None

    @property
    def previous(self) -> Window:
        span = self.end - self.start
        return Window(self.start - span, self.start, self.tz, self.bucket, self.preset)


def choose_bucket(span: timedelta) -> str:
    """Enough points to draw and few enough rows to read fast: hours up to two days, days up to
    three months, ISO weeks up to two years, months beyond."""
    if span <= timedelta(days=2):
        return "hour"
    if span <= timedelta(days=93):
        return "day"
    if span <= timedelta(days=731):
        return "week"
    return "month"


def bucket_starts(w: Window) -> list[datetime]:
    """Every bucket's start over the range, as the summaries start them in the range's zone:
    the charts show a bucket without data as one, not as a line across it."""
    zone = check_zone(w.tz)
    local = w.start.astimezone(zone)
    starts: list[datetime] = []
    if w.bucket == "hour":
        at = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        while at < w.end and len(starts) <= MAX_POINTS:
            starts.append(at)
            at += timedelta(hours=1)
        return starts
    day = local.date()
    if w.bucket == "week":
        day -= timedelta(days=day.weekday())
    elif w.bucket == "month":
        day = day.replace(day=1)
    while len(starts) <= MAX_POINTS:
        at = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        if at >= w.end:
            break
        starts.append(at)
        if w.bucket == "day":
            day += timedelta(days=1)
        elif w.bucket == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def _local_time(name: str, text: str, tz: str) -> datetime:
    # A custom bound without an offset, as <input type="datetime-local"> sends it, is a wall
    # time in the dashboard's zone.
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parse_timestamp(name, text)
        raise
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=check_zone(tz))
    return parsed


def _window(params: Mapping[str, str], now: datetime | None) -> Window:
    tz = params.get("tz") or "UTC"
    check_zone(tz)
    preset = params.get("range") or ("custom" if "start" in params else "24h")
    if preset == "custom":
        if not params.get("start") or not params.get("end"):
            raise ValueError("a custom range needs start and end")
        start = _local_time("start", params["start"], tz)
        end = _local_time("end", params["end"], tz)
        if start >= end:
            raise ValueError("start must be before end")
        return Window(start, end, tz, choose_bucket(end - start), None)
    if preset not in PRESETS:
        raise ValueError(f"range must be one of {', '.join(PRESETS)} or custom")
    end = now or datetime.now(UTC)
    start = end - PRESETS[preset]
    return Window(start, end, tz, choose_bucket(PRESETS[preset]), preset)


def window(params: Mapping[str, str], now: datetime | None = None) -> Window:
    """The range a request asks for: a preset (``range``, default 24h) ending now, or ``start``
    and ``end``; DashboardRequestError names a bad parameter."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise DashboardRequestError(f"unknown parameter {unknown[0]!r}")
    try:
        return _window(params, now)
    except ValueError as exc:
        raise DashboardRequestError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Key:
    """The key a key's page is about; all None for the overview."""

    route: str | None = None
    method: str | None = None
    operation: str | None = None


def key_of(kind: Kind, params: Mapping[str, str]) -> Key:
    try:
        if kind == "routes":
            route = params.get("route")
            method = params.get("method")
            return Key(
                route=None if route is None else check_name("route", route),
                method=None if method is None else check_method(method),
            )
        operation = params.get("operation")
        return Key(operation=None if operation is None else check_name("operation", operation))
    except ValueError as exc:
        raise DashboardRequestError(str(exc)) from None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "method": row["method"],
        "total": int(row["total"]),
        "successful": int(row["successful"]),
        "failed": int(row["failed"]),
        "error_rate": _number(row["error_rate"]),
        "average_ms": _number(row["average_duration_ms"]),
        "min_ms": _number(row["min_duration_ms"]),
        "max_ms": _number(row["max_duration_ms"]),
        "p50_ms": _number(row["p50_duration_ms"]),
        "p95_ms": _number(row["p95_duration_ms"]),
        "p99_ms": _number(row["p99_duration_ms"]),
        "last_at": None if row["last_at"] is None else row["last_at"].isoformat(),
    }


def nearest_rank(
    buckets: Sequence[tuple[float, float, int]], q: float, lo: float | None, hi: float | None
) -> float | None:
    """The q-quantile of merged histogram buckets as route_duration_quantile reads it: the
    nearest rank's bucket value, clamped to the exact minimum and maximum."""
    total = sum(count for _, _, count in buckets)
    if total == 0 or lo is None or hi is None:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for _lower, upper, count in buckets:
        seen += count
        if seen >= rank:
            if upper == 0:
                return min(max(0.0, lo), hi)
            k = round(math.log(upper) / LN_GROWTH)
            return min(max(math.exp(k * LN_GROWTH - LN_MIDPOINT), lo), hi)
    return hi


def _params(w: Window, key: Key) -> dict[str, Any]:
    return {
        "start": w.start,
        "end": w.end,
        "tz": w.tz,
        "bucket": w.bucket,
        "route": key.route,
        "method": key.method,
        "operation": key.operation,
    }


def _fetch(
    conn: psycopg.Connection[dict[str, Any]], query: LiteralString, params: dict[str, Any]
) -> list[dict[str, Any]]:
    return conn.execute(query, params).fetchall()


def _totals(
    rows: Sequence[Mapping[str, Any]], buckets: Sequence[tuple[float, float, int]]
) -> dict[str, Any]:
    total = sum(row["total"] for row in rows)
    failed = sum(row["failed"] for row in rows)
    lows = [row["min_ms"] for row in rows if row["min_ms"] is not None]
    highs = [row["max_ms"] for row in rows if row["max_ms"] is not None]
    lo, hi = (min(lows), max(highs)) if lows else (None, None)
    figures: dict[str, Any] = {
        "total": total,
        "failed": failed,
        "error_rate": failed / total if total else None,
    }
    for name, q in QUANTILES:
        figures[f"{name}_ms"] = nearest_rank(buckets, q, lo, hi)
    return figures


def read(
    conn: psycopg.Connection[dict[str, Any]], kind: Kind, w: Window, key: Key
) -> dict[str, Any]:
    """Everything one page shows, in one snapshot of ``conn``."""
    keys_query = (
        queries.DASHBOARD_ROUTE_KEYS if kind == "routes" else queries.DASHBOARD_OPERATION_KEYS
    )
    histogram_query = (
        queries.ROUTE_DURATION_HISTOGRAM
        if kind == "routes"
        else queries.OPERATION_DURATION_HISTOGRAM
    )
    series_query = (
        queries.DASHBOARD_ROUTE_SERIES if kind == "routes" else queries.DASHBOARD_OPERATION_SERIES
    )
    with conn.transaction():
        conn.execute(queries.READ_SNAPSHOT)
        keys = [_row(row) for row in _fetch(conn, keys_query, _params(w, key))]
        previous_keys = [_row(row) for row in _fetch(conn, keys_query, _params(w.previous, key))]
        histogram = [
            (float(r["lower_ms"]), float(r["upper_ms"]), int(r["count"]))
            for r in _fetch(conn, histogram_query, _params(w, key))
        ]
        previous_histogram = [
            (float(r["lower_ms"]), float(r["upper_ms"]), int(r["count"]))
            for r in _fetch(conn, histogram_query, _params(w.previous, key))
        ]
        top = sorted(keys, key=lambda row: (-row["total"], row["name"], row["method"] or ""))
        top = top[:TOP_KEYS]
        series_params = _params(w, key) | {
            "names": [row["name"] for row in top],
            "methods": [row["method"] or "" for row in top],
        }
        series_rows = _fetch(conn, series_query, series_params)
    return {
        "kind": kind,
        "range": {
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
            "previous_start": w.previous.start.isoformat(),
            "tz": w.tz,
            "bucket": w.bucket,
            "preset": w.preset,
        },
        "key": {"route": key.route, "method": key.method, "operation": key.operation},
        "totals": {
            "current": _totals(keys, histogram),
            "previous": _totals(previous_keys, previous_histogram),
        },
        "keys": keys,
        "top": [{"name": row["name"], "method": row["method"]} for row in top],
        "series": [
            {
                "bucket_start": row["bucket_start"].isoformat(),
                "name": row["name"],
                "method": row["method"],
                "total": int(row["total"]),
                "failed": int(row["failed"]),
                "p50_ms": _number(row["p50_duration_ms"]),
                "p95_ms": _number(row["p95_duration_ms"]),
                "p99_ms": _number(row["p99_duration_ms"]),
            }
            for row in series_rows
        ],
        "histogram": [list(bucket) for bucket in histogram],
        "buckets": [start.isoformat() for start in bucket_starts(w)],
    }
