"""Every rule an argument of pgmetrics must follow, each defined once: the recording and read
arguments of the storages, the admin endpoint's parameters and the command line all check here.

The SQL functions ``pgmetrics._check_name``, ``pgmetrics._check_method`` and
``pgmetrics._check_summary_range`` hold the same rules for SQL callers, and the recording
functions and ``pgmetrics._check_cell`` the same bounds (docs/sql.md); tests/test_checks_sql.py
compares the two, so that neither drifts from the other.
"""

from __future__ import annotations

import math
import numbers
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pgmetrics.types import Bucket, TimeRange

MAX_NAME_LENGTH = 1024
# The key the middleware counts every other method under (WebDAV's PROPFIND, a scanner's
# invented ones), as OpenTelemetry's http.request.method does: one key, whatever arrives.
OTHER_METHOD = "_OTHER"
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", OTHER_METHOD}
)
BUCKETS: tuple[Bucket, ...] = get_args(Bucket)
# The bounds that keep every sum a fold or a read computes in range (docs/sql.md). 1e15 ms is about
# 31,700 years; 1e15 times 2**63 is about 9.2e33, far below the largest double (1.8e308), so no
# sum of accepted durations overflows. A cell counts at most 2**32 - 1 events, so more than 2**31
# cells of one key and period would be needed before a bigint sum overflows.
MAX_DURATION_MS = 1e15
MAX_CELL_COUNT = 2**32 - 1
# Every histogram of a cell within MAX_CELL_COUNT fits: 72,709 buckets, plus one element per
# 32,767 counts of a bucket.
MAX_HISTOGRAM_ELEMENTS = 262_144

_INF = math.inf
_MIN_T = datetime(1, 1, 1, tzinfo=UTC).timestamp()
_MAX_T = datetime.max.replace(tzinfo=UTC).timestamp()


def check_name(argument: str, value: object) -> str:
    """``value`` when it is a valid route or operation name, else ValueError naming ``argument``."""
    if not isinstance(value, str):
        raise ValueError(f"{argument} must be a str, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_NAME_LENGTH:
        raise ValueError(
            f"{argument} must be 1 to {MAX_NAME_LENGTH} characters long, got {len(value)}"
        )
    if "\x00" in value:
        raise ValueError(f"{argument} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{argument} must not contain lone surrogates") from None
    return value


def check_method(value: object) -> str:
    """``value`` in upper case when it is a standard HTTP method or ``_OTHER``, else ValueError."""
    if isinstance(value, str):
        upper = value.upper()
        if upper in METHODS:
            return upper
    raise ValueError(f"method must be one of {' '.join(sorted(METHODS))}, got {value!r:.40}")


def check_duration(value: object) -> float:
    """``value`` as a float when it is a finite number from 0 to MAX_DURATION_MS, else
    ValueError."""
    if type(value) is int and value >= 0:
        try:
            duration = float(value)
        except OverflowError:
            raise ValueError(
                "duration_ms must be a finite number >= 0, "
                f"got an integer of {value.bit_length()} bits"
            ) from None
        if duration > MAX_DURATION_MS:
            raise ValueError(
                f"duration_ms must be at most {MAX_DURATION_MS:g} (about 31,700 years), got {value}"
            )
        return duration
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise ValueError(f"duration_ms must be a number, got {type(value).__name__}")
    try:
        duration = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"duration_ms must be a finite number >= 0, got {value!r}") from None
    if not 0.0 <= duration < _INF:
        raise ValueError(f"duration_ms must be a finite number >= 0, got {duration!r}")
    if duration > MAX_DURATION_MS:
        raise ValueError(
            f"duration_ms must be at most {MAX_DURATION_MS:g} (about 31,700 years), "
            f"got {duration!r}"
        )
    return duration


def check_success(value: object) -> bool:
    if value is True or value is False:
        return value
    raise ValueError(f"success must be a bool, got {type(value).__name__}")


def check_at(at: object) -> float:
    """Seconds since the epoch of ``at`` when it is an aware datetime in range, else ValueError."""
    if not isinstance(at, datetime):
        raise ValueError(f"at must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    t = at.timestamp()
    if not _MIN_T <= t < _MAX_T:
        raise ValueError(f"at is out of range: {at.isoformat()}")
    return t


def check_bucket(bucket: object) -> Bucket:
    for known in BUCKETS:
        if bucket == known:
            return known
    raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket!r:.40}")


def check_zone(tz: object) -> ZoneInfo:
    """The zone named ``tz``, else ValueError."""
    if isinstance(tz, str) and tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValueError(f"tz must be an IANA time zone name, got {tz!r:.64}")


def check_time_range(time_range: object) -> TimeRange | None:
    if time_range is None or isinstance(time_range, TimeRange):
        return time_range
    raise ValueError(f"time_range must be a TimeRange or None, got {type(time_range).__name__}")


def check_seconds(name: str, value: float, lowest: float) -> float:
    """``value`` as a float when it is a number of seconds from ``lowest`` up to what a thread
    can wait, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= lowest:
        raise ValueError(f"{name} must be a number >= {lowest:g} (seconds), got {value!r}")
    if not math.isfinite(value) or value > threading.TIMEOUT_MAX:
        raise ValueError(f"{name} must be at most {threading.TIMEOUT_MAX:g} seconds, got {value!r}")
    return float(value)


class ReadFilter(NamedTuple):
    """The checked arguments of a summary read."""

    name: str | None  # the route or operation asked for, or None for all
    method: str | None  # upper case; always None for operations
    time_range: TimeRange | None
    bucket: Bucket
    tz: str
    zone: ZoneInfo


def check_route_read(
    route: object, method: object, time_range: object, bucket: object, tz: object
) -> ReadFilter:
    """The arguments of ``get_route_metrics`` checked, else ValueError naming the bad one."""
    return ReadFilter(
        None if route is None else check_name("route", route),
        None if method is None else check_method(method),
        check_time_range(time_range),
        check_bucket(bucket),
        str(tz),
        check_zone(tz),
    )


def check_operation_read(
    operation: object, time_range: object, bucket: object, tz: object
) -> ReadFilter:
    """The arguments of ``get_operation_metrics`` checked, else ValueError naming the bad one."""
    return ReadFilter(
        None if operation is None else check_name("operation", operation),
        None,
        check_time_range(time_range),
        check_bucket(bucket),
        str(tz),
        check_zone(tz),
    )
