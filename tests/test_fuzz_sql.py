"""Fuzzing of the public SQL functions: every generated input is either accepted and stored
as given, or rejected with a class-22 SQLSTATE and nothing written. Each input runs in a
transaction on one connection that is rolled back afterwards."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from pgmetrics.checks import MAX_DURATION_MS
from pgmetrics.histogram import Histogram, bucket_index
from tests.conftest import Database
from tests.fuzzing import FUZZ, METHODS, arguments, count_fuzz_input

# A thousand inputs per target: seconds to minutes each.
pytestmark = pytest.mark.slow

TABLES = (
    "route_metrics",
    "operation_metrics",
    "route_metrics_rollup",
    "operation_metrics_rollup",
    "route_cells",
    "operation_cells",
    "ingested_batches",
)
ADVERSARIAL = (
    "'; DROP TABLE pgmetrics.route_metrics; --",
    "' OR '1'='1",
    "$$; SELECT 1; $$",
    "\\",
    "%s",
    "%(x)s",
    "{}",
    "[]",
    "null",
    " GET",
    "GET ",
    "g\u0130t",
    "\u017fet",
    "\U0001f600",
    "\U0010fffd",
    "\u202e/users",
    "/users/{id}",
    "__overflow__",
)

# PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded: both are refused
# by the client library before the server sees them, so SQL inputs leave them out.
CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
SHORT_TEXT = st.text(CHARS, max_size=40)
LONG_TEXT = st.builds(
    lambda c, n: c * n, st.text(CHARS, min_size=1, max_size=3), st.integers(300, 2000)
)
TEXT = st.one_of(SHORT_TEXT, LONG_TEXT, st.sampled_from(ADVERSARIAL))
NULLABLE_TEXT = st.one_of(st.none(), TEXT)
VALID_NAME = st.text(CHARS, min_size=1, max_size=40)
VALID_METHOD = st.one_of(
    st.sampled_from(METHODS),
    st.builds(
        lambda m, lower: m.lower() if lower else m.capitalize(),
        st.sampled_from(METHODS),
        st.booleans(),
    ),
)
METHOD = st.one_of(st.none(), VALID_METHOD, TEXT)
EDGE_FLOATS = (
    0.0,
    -0.0,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
    -1.0,
    # The bound of durations, and just past it: two of 1e308 once overflowed every fold.
    MAX_DURATION_MS,
    math.nextafter(MAX_DURATION_MS, math.inf),
    1e308,
)
VALID_DURATION = st.floats(min_value=0, max_value=MAX_DURATION_MS)
DURATION = st.one_of(st.none(), st.floats(), st.sampled_from(EDGE_FLOATS))
EDGE_TIMES = (
    "infinity",
    "-infinity",
    "4713-01-01 00:00:00+00 BC",
    "4714-11-24 00:00:00+00 BC",
    "294276-12-31 22:59:59.999999+00",
    "294276-12-31 23:00:00+00",
    "294276-12-31 23:59:59.999999+00",
    "294277-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "1970-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "epoch",
    "2026-02-30 10:00:00+00",
    "not a time",
)
VALID_TIME = st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
TIME = st.one_of(st.none(), st.sampled_from(EDGE_TIMES), VALID_TIME)
VALID_SUCCESS = st.booleans()
SUCCESS = st.one_of(st.none(), st.booleans())


def _counts(conn: psycopg.Connection[Any]) -> tuple[int, ...]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM pgmetrics.route_metrics),"
        " (SELECT count(*) FROM pgmetrics.operation_metrics),"
        " (SELECT count(*) FROM pgmetrics.route_metrics_rollup),"
        " (SELECT count(*) FROM pgmetrics.operation_metrics_rollup),"
        " (SELECT count(*) FROM pgmetrics.route_cells),"
        " (SELECT count(*) FROM pgmetrics.operation_cells),"
        " (SELECT count(*) FROM pgmetrics.ingested_batches),"
        " (SELECT count(*) FROM pgmetrics.route_events),"
        " (SELECT count(*) FROM pgmetrics.operation_events),"
        " (SELECT sum(value) FROM pgmetrics.settings)"
    ).fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


def _attempt(
    conn: psycopg.Connection[Any], call: Callable[[], object]
) -> tuple[object, psycopg.Error | None]:
    """Runs ``call`` in a savepoint: its result, or the class-22 error that rejected it (any
    other error fails the test), with the row counts unchanged by a rejection."""
    before = _counts(conn)
    error: psycopg.Error | None = None
    try:
        with conn.transaction():
            return call(), None
    except psycopg.Error as exc:
        error = exc
    assert error.sqlstate is not None, f"client-side error {error!r}"
    assert error.sqlstate.startswith("22"), f"SQLSTATE {error.sqlstate}: {error}"
    assert error.diag.message_primary, "a rejection says why"
    assert _counts(conn) == before, "a rejected call wrote something"
    return None, error


def _route_like_invalid(name: str | None) -> bool:
    return name is None or not 1 <= len(name) <= 1024


def _method_invalid(method: str | None) -> bool:
    return method is None or (method.isascii() and method.upper() not in METHODS)


def _duration_invalid(duration: float | None) -> bool:
    return duration is None or not 0.0 <= duration <= MAX_DURATION_MS


def test_fuzz_record_route_metric(db: Database) -> None:
    with db.connect() as conn:

        @FUZZ
        @given(
            arguments(
                (VALID_NAME, VALID_METHOD, VALID_SUCCESS, VALID_DURATION, VALID_TIME),
                (NULLABLE_TEXT, METHOD, SUCCESS, DURATION, TIME),
            )
        )
        def run(args: tuple[Any, ...]) -> None:
            route, method, success, duration, at = args
            count_fuzz_input("sql record_route_metric")
            with conn.transaction(force_rollback=True):
                _, error = _attempt(
                    conn,
                    lambda: conn.execute(
                        "SELECT pgmetrics.record_route_metric(%s, %s, %s, %s, %s::timestamptz)",
                        (route, method, success, duration, at),
                    ),
                )
                count_fuzz_input("sql record_route_metric", accepted=error is None)
                invalid = (
                    _route_like_invalid(route)
                    or _method_invalid(method)
                    or success is None
                    or _duration_invalid(duration)
                    or at is None
                )
                if invalid:
                    assert error is not None, "an invalid call was accepted"
                    return
                if error is not None:
                    return
                assert duration is not None
                # Direct calls append events; the fold moves them into the hourly tier.
                conn.execute("SELECT pgmetrics.fold_events()")
                row = conn.execute(
                    "SELECT route, method = upper(%s),"
                    " period_start = date_trunc('hour', %s::timestamptz, 'UTC'),"
                    " last_request_at = %s::timestamptz, total_requests, successful, failed,"
                    " total_duration_ms, min_duration_ms, max_duration_ms"
                    " FROM pgmetrics.route_metrics",
                    (method, at, at),
                ).fetchall()
                assert row == [
                    (
                        route,
                        True,
                        True,
                        True,
                        1,
                        int(bool(success)),
                        1 - int(bool(success)),
                        duration,
                        duration,
                        duration,
                    )
                ]

        run()


def test_fuzz_record_operation_metric(db: Database) -> None:
    with db.connect() as conn:

        @FUZZ
        @given(
            arguments(
                (VALID_NAME, VALID_SUCCESS, VALID_DURATION, VALID_TIME),
                (NULLABLE_TEXT, SUCCESS, DURATION, TIME),
            )
        )
        def run(args: tuple[Any, ...]) -> None:
            operation, success, duration, at = args
            count_fuzz_input("sql record_operation_metric")
            with conn.transaction(force_rollback=True):
                _, error = _attempt(
                    conn,
                    lambda: conn.execute(
                        "SELECT pgmetrics.record_operation_metric(%s, %s, %s, %s::timestamptz)",
                        (operation, success, duration, at),
                    ),
                )
                count_fuzz_input("sql record_operation_metric", accepted=error is None)
                invalid = (
                    _route_like_invalid(operation)
                    or success is None
                    or _duration_invalid(duration)
                    or at is None
                )
                if invalid:
                    assert error is not None, "an invalid call was accepted"
                    return
                if error is not None:
                    return
                # Direct calls append events; the fold moves them into the hourly tier.
                conn.execute("SELECT pgmetrics.fold_events()")
                row = conn.execute(
                    "SELECT operation, period_start = date_trunc('hour', %s::timestamptz, 'UTC'),"
                    " last_execution_at = %s::timestamptz, total_executions, successful,"
                    " total_duration_ms"
                    " FROM pgmetrics.operation_metrics",
                    (at, at),
                ).fetchall()
                assert row == [(operation, True, True, 1, int(bool(success)), duration)]

        run()


# JSON values of every kind, for the fields of a cell and for whole arrays.
JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    JSON_SCALAR,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(SHORT_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
HOURS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23)).map(
    lambda d: d.replace(minute=0, second=0, microsecond=0).isoformat() + "+00:00"
)
HOUR_FIELD = st.one_of(HOURS, st.sampled_from(EDGE_TIMES), JSON)
COUNT = st.one_of(st.integers(0, 5), st.integers(-(2**70), 2**70), JSON)
NUMBER = st.one_of(st.floats(0, 1e6), st.floats(allow_nan=False, allow_infinity=False), JSON)


def _histogram(n: int, lo: float, hi: float) -> dict[str, object]:
    """A histogram and zero_count that agree with the cell's count and extremes."""
    zeros = min(n, 1) if lo == 0 else 0
    if hi == 0:
        zeros = n
    counts = {bucket_index(hi): n - zeros} if n > zeros else {}
    return Histogram(counts, zeros).to_json()


@st.composite
def cells(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A cell that is valid, or close to valid with some fields mutated, missing or added."""
    n_s = draw(st.integers(0, 5))
    n_f = draw(st.integers(0, 5))
    lo = draw(st.floats(0, 100))
    hi = lo + draw(st.floats(0, 100))
    hour = draw(HOURS)
    cell: dict[str, Any] = {
        "h": hour,
        "n": n_s + n_f,
        "s": n_s,
        "f": n_f,
        "d": lo * (n_s + n_f) + (hi - lo),
        "lo": lo,
        "hi": hi,
        "t": hour,
        **_histogram(n_s + n_f, lo, hi),
    }
    if kind == "route":
        cell["r"] = draw(TEXT)
        cell["m"] = draw(st.sampled_from(METHODS) | st.sampled_from(METHODS).map(str.lower))
    else:
        cell["o"] = draw(TEXT)
    mutations = draw(st.integers(0, 5))  # no mutation half of the time
    for key in draw(
        st.lists(st.sampled_from(sorted(cell)), max_size=max(0, mutations - 2), unique=True)
    ):
        action = draw(st.sampled_from(("mutate", "drop")))
        if action == "drop":
            del cell[key]
        elif key in ("n", "s", "f"):
            cell[key] = draw(COUNT)
        elif key in ("d", "lo", "hi"):
            cell[key] = draw(NUMBER)
        elif key in ("h", "t"):
            cell[key] = draw(HOUR_FIELD)
        else:
            cell[key] = draw(JSON | TEXT | METHOD)
    if draw(st.integers(0, 9)) == 0:
        cell[draw(SHORT_TEXT)] = draw(JSON)
    return cell


def _array(kind: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.just([]),
        st.lists(cells(kind), min_size=1, max_size=4),
        st.lists(cells(kind), min_size=1, max_size=4),
        st.lists(cells(kind) | JSON, min_size=1, max_size=3),
        JSON,
    )


def _sums(array: object, kind: str) -> tuple[int, int]:
    if not isinstance(array, list):
        return 0, 0
    return sum(int(c["n"]) for c in array), sum(int(c["s"]) for c in array)


def test_fuzz_ingest_batch(db: Database) -> None:
    with db.connect() as conn:

        @FUZZ
        @given(
            st.one_of(st.uuids(), st.uuids(), st.uuids(), st.none()),
            _array("route"),
            _array("operation"),
            st.booleans(),
            st.booleans(),
        )
        def run(
            batch_id: uuid.UUID | None,
            routes: Any,
            operations: Any,
            sql_null_r: bool,
            sql_null_o: bool,
        ) -> None:
            count_fuzz_input("sql ingest_batch")
            r_param = None if routes is None and sql_null_r else Jsonb(routes)
            o_param = None if operations is None and sql_null_o else Jsonb(operations)
            with conn.transaction(force_rollback=True):
                result, error = _attempt(
                    conn,
                    lambda: conn.execute(
                        "SELECT pgmetrics.ingest_batch(%s, %s::jsonb, %s::jsonb)",
                        (batch_id, r_param, o_param),
                    ).fetchone(),
                )
                count_fuzz_input("sql ingest_batch", accepted=error is None)
                if batch_id is None:
                    assert error is not None, "a NULL batch_id was accepted"
                    return
                if error is not None:
                    return
                assert result == (True,)
                r_total, r_ok = _sums(routes, "route")
                o_total, o_ok = _sums(operations, "operation")
                conn.execute("SELECT pgmetrics.fold_events()")
                row = conn.execute(
                    "SELECT (SELECT coalesce(sum(total_requests), 0) FROM pgmetrics.route_metrics),"
                    " (SELECT coalesce(sum(successful), 0) FROM pgmetrics.route_metrics),"
                    " (SELECT coalesce(sum(total_executions), 0) FROM pgmetrics.operation_metrics),"
                    " (SELECT coalesce(sum(successful), 0) FROM pgmetrics.operation_metrics),"
                    " (SELECT count(*) FROM pgmetrics.ingested_batches WHERE batch_id = %s)",
                    (batch_id,),
                ).fetchone()
                assert row == (r_total, r_ok, o_total, o_ok, 1)
                if isinstance(routes, list):
                    stored = {
                        r
                        for (r,) in conn.execute(
                            "SELECT route FROM pgmetrics.route_metrics"
                        ).fetchall()
                    }
                    assert stored == {c["r"] for c in routes}
                again = conn.execute(
                    "SELECT pgmetrics.ingest_batch(%s, %s::jsonb, %s::jsonb)",
                    (batch_id, r_param, o_param),
                ).fetchone()
                assert again == (False,), "a batch id applied twice"

        run()


SUMMARY_SEED = """
SELECT pgmetrics.record_route_metric(r, m, s, d, t)
FROM (VALUES ('/a', 'GET', true, 1.0::float8, '2026-03-01 10:10+00'::timestamptz),
             ('/a', 'GET', false, 3.0, '2026-03-01 23:30+00'),
             ('/b', 'POST', true, 2.0, '2026-03-05 01:00+00')) AS v (r, m, s, d, t);
SELECT pgmetrics.record_operation_metric(o, s, d, t)
FROM (VALUES ('op', true, 1.0::float8, '2026-03-01 10:10+00'::timestamptz),
             ('op', false, 2.0, '2026-03-08 10:10+00')) AS v (o, s, d, t);
"""
VALID_BUCKET = st.sampled_from(("hour", "day", "week", "month", "all"))
BUCKET = st.one_of(st.none(), st.sampled_from(("HOUR", "minute", "", " hour")), TEXT)
VALID_ZONE = st.sampled_from(
    ("UTC", "Europe/Berlin", "Pacific/Kiritimati", "America/St_Johns", "Asia/Kathmandu")
)
ZONE = st.one_of(
    st.none(), st.sampled_from(("+05:30", "UTC+14", "Mars/Olympus", "")), st.timezone_keys(), TEXT
)
RANGE_TIME = st.datetimes(min_value=datetime(2026, 2, 20), max_value=datetime(2026, 3, 15)).map(
    lambda d: d.isoformat() + "+00:00"
)


VALID_RANGE = st.tuples(RANGE_TIME, RANGE_TIME).map(lambda ab: (min(ab), max(ab)))
RANGE = st.one_of(
    st.tuples(TIME, TIME), st.tuples(VALID_RANGE, TIME).map(lambda x: (x[1], x[0][0]))
)


def _check_summary(rows: list[tuple[Any, ...]], total_column: int) -> None:
    assert rows == sorted(rows, key=lambda r: (r[0], *r[1:total_column])), (
        "rows in bucket and key order"
    )
    for row in rows:
        total, ok, failed, error_rate = row[total_column : total_column + 4]
        assert total == ok + failed
        assert total > 0
        assert 0 <= error_rate <= 1


def test_fuzz_route_metrics_summary(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(SUMMARY_SEED)
        seeded = _counts(conn)

        @FUZZ
        @given(
            arguments(
                (
                    VALID_RANGE,
                    VALID_BUCKET,
                    st.sampled_from(("/a", "/b", None)),
                    st.none() | VALID_METHOD,
                    VALID_ZONE,
                ),
                (RANGE, BUCKET, NULLABLE_TEXT, METHOD, ZONE),
            )
        )
        def routes(args: tuple[Any, ...]) -> None:
            count_fuzz_input("sql route_metrics_summary")
            (start, end), bucket, route, method, tz = args
            with conn.transaction(force_rollback=True):
                rows, error = _attempt(
                    conn,
                    lambda: conn.execute(
                        "SELECT * FROM pgmetrics.route_metrics_summary("
                        "%s::timestamptz, %s::timestamptz, %s, %s, %s, %s)",
                        (start, end, bucket, route, method, tz),
                    ).fetchall(),
                )
                count_fuzz_input("sql route_metrics_summary", accepted=error is None)
                if None in (start, end, bucket, tz):
                    assert error is not None, "a NULL argument was accepted"
                if error is None:
                    assert isinstance(rows, list)
                    _check_summary(rows, 3)
                    if route is not None:
                        assert {r[1] for r in rows} <= {route}
                assert _counts(conn) == seeded

        routes()


def test_fuzz_operation_metrics_summary(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(SUMMARY_SEED)
        seeded = _counts(conn)

        @FUZZ
        @given(
            arguments(
                (VALID_RANGE, VALID_BUCKET, st.sampled_from(("op", None)), VALID_ZONE),
                (RANGE, BUCKET, NULLABLE_TEXT, ZONE),
            )
        )
        def operations(args: tuple[Any, ...]) -> None:
            count_fuzz_input("sql operation_metrics_summary")
            (start, end), bucket, operation, tz = args
            with conn.transaction(force_rollback=True):
                rows, error = _attempt(
                    conn,
                    lambda: conn.execute(
                        "SELECT * FROM pgmetrics.operation_metrics_summary("
                        "%s::timestamptz, %s::timestamptz, %s, %s, %s)",
                        (start, end, bucket, operation, tz),
                    ).fetchall(),
                )
                count_fuzz_input("sql operation_metrics_summary", accepted=error is None)
                if None in (start, end, bucket, tz):
                    assert error is not None, "a NULL argument was accepted"
                if error is None:
                    assert isinstance(rows, list)
                    _check_summary(rows, 2)
                assert _counts(conn) == seeded

        operations()


# Each setting with its bounds (pgmetrics.settings).
SETTINGS = {
    "retention_days": (1, 36500),
    "summary_retention_days": (1, 36500),
    "batch_retention_days": (1, 3650),
    "max_keys_per_hour": (1, 10_000_000),
}
SETTING_NAMES = tuple(SETTINGS)


def test_fuzz_set_setting(db: Database) -> None:
    with db.connect() as conn:

        @FUZZ
        @given(
            arguments(
                (st.sampled_from(SETTING_NAMES), st.integers(1, 730)),
                (
                    st.none() | st.sampled_from(SETTING_NAMES).map(str.upper) | TEXT,
                    st.none() | st.integers(-5, 40000) | st.integers(-(2**40), 2**40),
                ),
            )
        )
        def run(args: tuple[Any, ...]) -> None:
            name, value = args
            count_fuzz_input("sql set_setting")
            with conn.transaction(force_rollback=True):
                result, error = _attempt(
                    conn,
                    lambda: conn.execute(
                        "SELECT pgmetrics.set_setting(%s, %s::text::integer)",
                        (name, None if value is None else str(value)),
                    ).fetchone(),
                )
                count_fuzz_input("sql set_setting", accepted=error is None)
                if (
                    name not in SETTINGS
                    or value is None
                    or not SETTINGS[name][0] <= value <= SETTINGS[name][1]
                ):
                    assert error is not None, "an invalid setting was accepted"
                    return
                if error is not None:
                    return
                assert result == (value,)
                stored = conn.execute(
                    "SELECT value FROM pgmetrics.settings WHERE name = %s", (name,)
                ).fetchone()
                assert stored == (value,)

        run()
