"""Fuzzing of the public Python entry points: every generated input is either accepted (and
recorded as given) or rejected with ValueError (BadRequest for the admin endpoint's parser),
never another exception, and a rejected record leaves nothing behind."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pgmetrics
from pgmetrics import DatabaseMetricsStorage, MemoryMetricsStorage
from pgmetrics.checks import BUCKETS, MAX_DURATION_MS, MAX_NAME_LENGTH, METHODS
from pgmetrics.config import load_settings
from pgmetrics.web.admin import PARAMETERS, BadRequest, parse_query
from tests.conftest import Database
from tests.fuzzing import FUZZ, arguments, count_fuzz_input

# A thousand inputs per target: seconds to minutes each.
pytestmark = pytest.mark.slow

EXTREME_ZONES = (UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=23, minutes=59)))

# Any text, lone surrogates and NUL included: Python strings can hold them.
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda c, n: c * n, st.text(min_size=1, max_size=3), st.integers(300, 2000)),
    st.sampled_from(("", "\x00", "/a\x00", "\udc80", "' OR 1=1 --", "\U0010ffff", "get\u0131")),
)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.decimals(),
    st.fractions(),
    ANY_TEXT,
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.datetimes(),
    st.dates(),
)
VALID_NAME = st.text(min_size=1, max_size=40).filter(
    lambda s: "\x00" not in s and not any("\ud800" <= c <= "\udfff" for c in s)
)
VALID_METHOD = st.sampled_from(sorted(METHODS)) | st.sampled_from(sorted(METHODS)).map(str.lower)
VALID_DURATION = st.one_of(
    st.floats(min_value=0, max_value=MAX_DURATION_MS),
    st.integers(0, 10**12),
    st.decimals(min_value=0, max_value=10**12, allow_nan=False, places=3),
    st.fractions(min_value=0, max_value=10**6),
    st.sampled_from((0.0, -0.0, 5e-324, MAX_DURATION_MS)),
)
FUZZY_DURATION = st.one_of(
    ANYTHING,
    st.sampled_from(
        (math.nan, math.inf, -math.inf, -1.0, -5e-324, Decimal("NaN"), Decimal("sNaN"))
    ),
    st.sampled_from((Decimal("-Infinity"), Decimal("1e400"), 10**400, Fraction(-1, 3))),
    # Past the bound that keeps every sum of durations finite.
    st.sampled_from((1.7976931348623157e308, 1e308, math.nextafter(1e15, math.inf), 10**15 + 1)),
)
VALID_AT = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    ),
)
FUZZY_AT = st.one_of(
    ANYTHING,
    st.datetimes(timezones=st.sampled_from(EXTREME_ZONES)),
    st.sampled_from(
        (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), datetime.max)
    ),
    st.sampled_from(tuple(datetime.min.replace(tzinfo=z) for z in EXTREME_ZONES)),
)


ROUTE_ARGS = arguments(
    (VALID_NAME, VALID_METHOD, st.booleans(), VALID_DURATION, VALID_AT),
    (ANY_TEXT | ANYTHING, ANY_TEXT | ANYTHING, ANYTHING, FUZZY_DURATION, FUZZY_AT),
)
OPERATION_ARGS = arguments(
    (VALID_NAME, st.booleans(), VALID_DURATION, VALID_AT),
    (ANY_TEXT | ANYTHING, ANYTHING, FUZZY_DURATION, FUZZY_AT),
)


def _check_time(stored: datetime, at: datetime | None) -> None:
    if at is None:
        assert abs(stored - datetime.now(UTC)) < timedelta(minutes=5)
    else:
        # Kept as float seconds: within 0.1 ms even at the year 9999.
        assert abs(stored - at) <= timedelta(microseconds=100)


def test_fuzz_memory_storage_routes() -> None:
    @FUZZ
    @given(ROUTE_ARGS)
    def run(args: tuple[Any, ...]) -> None:
        count_fuzz_input("python MemoryMetricsStorage.record_route_metric")
        route, method, success, duration, at = args
        storage = MemoryMetricsStorage()
        error: ValueError | None = None
        try:
            storage.record_route_metric(route, method, success, duration, at)
        except ValueError as exc:
            error = exc
        if error is not None:
            assert str(error)
            assert storage.get_route_metrics(bucket="all").rows == ()
            return
        count_fuzz_input("python MemoryMetricsStorage.record_route_metric", accepted=True)
        (row,) = storage.get_route_metrics(bucket="all").rows
        assert (row.route, row.method) == (route, method.upper())
        assert (row.total_requests, row.successful) == (1, int(success))
        assert (
            row.total_duration_ms == row.min_duration_ms == row.max_duration_ms == float(duration)
        )
        _check_time(row.last_request_at, at)

    run()


def test_fuzz_memory_storage_operations() -> None:
    @FUZZ
    @given(OPERATION_ARGS)
    def run(args: tuple[Any, ...]) -> None:
        count_fuzz_input("python MemoryMetricsStorage.record_operation_metric")
        operation, success, duration, at = args
        storage = MemoryMetricsStorage()
        error: ValueError | None = None
        try:
            storage.record_operation_metric(operation, success, duration, at)
        except ValueError as exc:
            error = exc
        if error is not None:
            assert str(error)
            assert storage.get_operation_metrics(bucket="all").rows == ()
            return
        count_fuzz_input("python MemoryMetricsStorage.record_operation_metric", accepted=True)
        (row,) = storage.get_operation_metrics(bucket="all").rows
        assert row.operation == operation
        assert (row.total_executions, row.successful) == (1, int(success))
        assert row.total_duration_ms == float(duration)
        _check_time(row.last_execution_at, at)

    run()


def test_fuzz_database_storage(db: Database) -> None:
    """Accepted inputs reach the database exactly: each is flushed and its row read back."""
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600, shutdown_timeout=10)
    # Durations stay small here so that the sums compared below are exact in floats.
    bounded = st.floats(min_value=0, max_value=1e12) | st.integers(0, 10**9)
    try:
        with db.connect() as conn:

            def stored(route: str, method: str, at: datetime | None) -> tuple[Any, ...]:
                conn.execute("SELECT pgmetrics.fold_events()")
                row = conn.execute(
                    "SELECT coalesce(sum(total_requests), 0), coalesce(sum(successful), 0),"
                    " coalesce(sum(total_duration_ms), 0) FROM pgmetrics.route_metrics"
                    " WHERE route = %s AND method = %s"
                    " AND period_start = date_trunc('hour', coalesce(%s, now()), 'UTC')",
                    (route, method, at),
                ).fetchone()
                assert row is not None
                return tuple(row)

            def total() -> int:
                conn.execute("SELECT pgmetrics.fold_events()")
                row = conn.execute(
                    "SELECT (SELECT coalesce(sum(total_requests), 0)"
                    " FROM pgmetrics.route_metrics) + (SELECT coalesce(sum(total_executions), 0)"
                    " FROM pgmetrics.operation_metrics)"
                ).fetchone()
                assert row is not None
                return int(row[0])

            @FUZZ
            @given(
                arguments(
                    (VALID_NAME, VALID_METHOD, st.booleans(), bounded, VALID_AT),
                    (ANY_TEXT | ANYTHING, ANY_TEXT | ANYTHING, ANYTHING, FUZZY_DURATION, FUZZY_AT),
                ),
                st.booleans(),
            )
            def run(args: tuple[Any, ...], operation: bool) -> None:
                count_fuzz_input("python DatabaseMetricsStorage.record_*_metric")
                name, method, success, duration, at = args
                before_total = total()
                # Rows are read back for plain keys at a given time (with at=None the hour
                # could turn between the record and the read).
                plain = (
                    not operation
                    and isinstance(name, str)
                    and "\x00" not in name
                    and name.encode("utf-8", "replace").decode() == name
                    and isinstance(method, str)
                    and method.upper() in METHODS
                    and isinstance(at, datetime)
                    and at.tzinfo is not None
                )
                before = stored(name, method.upper(), at) if plain else None
                error: ValueError | None = None
                try:
                    if operation:
                        storage.record_operation_metric(name, success, duration, at)
                    else:
                        storage.record_route_metric(name, method, success, duration, at)
                except ValueError as exc:
                    error = exc
                if error is not None:
                    assert str(error)
                    assert storage.flush(10)
                    assert total() == before_total, "a rejected record was delivered"
                    return
                count_fuzz_input("python DatabaseMetricsStorage.record_*_metric", accepted=True)
                assert storage.flush(10)
                assert total() == before_total + 1
                if before is not None:
                    after = stored(name, method.upper(), at)
                    assert after[0] == before[0] + 1
                    assert after[1] == before[1] + int(success)
                    assert after[2] == before[2] + float(duration)

            run()
    finally:
        storage.close(10)
    assert storage.rejected_batches == 0


ENV_NAMES = (
    "OBSERVABILITY_METRICS_STORAGE",
    "OBSERVABILITY_METRICS_DATABASE_URL",
    "DATABASE_URL",
    "OBSERVABILITY_METRICS_BATCH_INTERVAL",
    "OBSERVABILITY_METRICS_MAX_KEYS",
    "OBSERVABILITY_METRICS_SHUTDOWN_TIMEOUT",
)
ENV_VALUE = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(0, 100_000).map(str),
    st.floats().map(repr),
    st.sampled_from(("memory", "database", " DATABASE ", "Memory", "redis", "")),
    st.sampled_from(("nan", "inf", "-inf", "1e400", "9" * 400, "9" * 5000, " 250 ", "-0")),
    st.sampled_from(("1_000", "\uff15", "0x10", "1e3", "2.5", "host=localhost dbname=x")),
    ANY_TEXT,
)
ENVIRON = st.dictionaries(
    st.sampled_from(ENV_NAMES) | st.text(max_size=20), ENV_VALUE, max_size=len(ENV_NAMES) + 2
)


def test_fuzz_load_settings() -> None:
    @FUZZ
    @given(ENVIRON)
    def run(environ: dict[str, str]) -> None:
        count_fuzz_input("python load_settings")
        error: ValueError | None = None
        try:
            loaded = load_settings(environ)
        except ValueError as exc:
            error = exc
        if error is not None:
            assert "OBSERVABILITY_METRICS_" in str(error), "the message names the variable"
            return
        count_fuzz_input("python load_settings", accepted=True)
        assert loaded.storage in ("memory", "database")
        assert loaded.storage == "memory" or loaded.database_url
        assert 0 < loaded.batch_interval <= threading.TIMEOUT_MAX
        assert isinstance(loaded.max_keys, int)
        assert loaded.max_keys >= 1
        assert 0 <= loaded.shutdown_timeout <= threading.TIMEOUT_MAX

    run()


def test_fuzz_from_env() -> None:
    @FUZZ
    @given(ENVIRON)
    def run_from_env(environ: dict[str, str]) -> None:
        count_fuzz_input("python from_env")
        error: ValueError | None = None
        try:
            storage = pgmetrics.from_env(environ)
        except ValueError as exc:
            error = exc
        if error is not None:
            assert "OBSERVABILITY_METRICS_" in str(error), "the message names the variable"
            return
        count_fuzz_input("python from_env", accepted=True)
        if isinstance(storage, DatabaseMetricsStorage):
            storage.close(0)  # never connected: nothing to deliver
        else:
            assert isinstance(storage, MemoryMetricsStorage)

    run_from_env()


NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
ISO = st.datetimes(timezones=st.none() | st.timezones() | st.sampled_from(EXTREME_ZONES)).map(
    datetime.isoformat
)
PARAM_VALUE = st.one_of(
    ISO,
    st.sampled_from(BUCKETS),
    st.sampled_from(("UTC", "Europe/Berlin", "../../etc/passwd", "Mars/Olympus", "", "\x00")),
    st.timezone_keys(),
    VALID_METHOD,
    ANY_TEXT,
    st.sampled_from(
        ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999-14:00", "2026-02-30")
    ),
)
FUZZY_PARAMS = st.dictionaries(
    st.sampled_from(PARAMETERS) | st.text(max_size=10), PARAM_VALUE, max_size=len(PARAMETERS) + 1
)
PLAUSIBLE_PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "start": ISO,
        "end": ISO,
        "bucket": st.sampled_from(BUCKETS),
        "tz": st.sampled_from(("UTC", "Europe/Berlin", "Asia/Kathmandu")),
        "method": VALID_METHOD,
        "route": VALID_NAME,
        "operation": VALID_NAME,
    },
)
PARAMS = st.one_of(
    PLAUSIBLE_PARAMS,
    st.tuples(PLAUSIBLE_PARAMS, FUZZY_PARAMS).map(lambda pair: {**pair[0], **pair[1]}),
)


def test_fuzz_admin_parse_query() -> None:
    @FUZZ
    @given(PARAMS)
    def run(params: dict[str, str]) -> None:
        count_fuzz_input("python web.admin.parse_query")
        error: ValueError | None = None
        try:
            query = parse_query(params, now=NOW)
        except BadRequest as exc:
            error = exc
        if error is not None:
            assert str(error)
            return
        count_fuzz_input("python web.admin.parse_query", accepted=True)
        assert set(params) <= set(PARAMETERS)
        assert query.time_range.start <= query.time_range.end
        assert query.bucket in BUCKETS
        ZoneInfo(query.tz)
        assert query.method is None or query.method in METHODS
        for name in (query.route, query.operation):
            assert name is None or 1 <= len(name) <= MAX_NAME_LENGTH
            if name is not None:
                name.encode("utf-8")

    run()
