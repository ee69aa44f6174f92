"""The argument rules of pgmetrics.checks and those of the SQL check functions are the same: the
HTTP methods, the name length limit, the bucket names, the time zones, the range rule and the
bounds of durations, counts and histograms. SQL
keeps its own copy (a shipped change is never edited), so these tests hold the two equal."""

from __future__ import annotations

import math
import re
import sys
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from pgmetrics.checks import (
    BUCKETS,
    MAX_CELL_COUNT,
    MAX_DURATION_MS,
    MAX_HISTOGRAM_ELEMENTS,
    MAX_NAME_LENGTH,
    METHODS,
    check_bucket,
    check_duration,
    check_method,
    check_name,
    check_zone,
)
from pgmetrics.histogram import MAX_ELEMENT_COUNT, Histogram, bucket_index
from pgmetrics.types import TimeRange
from tests.conftest import Database

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _source(conn: psycopg.Connection[tuple[object, ...]], function: str) -> str:
    row = conn.execute(
        "SELECT prosrc FROM pg_catalog.pg_proc WHERE oid = %s::regproc", (function,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def _quoted_list(source: str, before: str) -> list[str]:
    """The quoted words of the first ``IN (...)`` list after ``before`` in ``source``."""
    match = re.search(re.escape(before) + r"\s+NOT IN \(([^)]*)\)", source)
    assert match is not None, f"no IN list after {before!r}"
    return re.findall(r"'([^']*)'", match.group(1))


def _sql_accepts(conn: psycopg.Connection[tuple[object, ...]], query: str, *args: object) -> bool:
    try:
        conn.execute(query, args)
    except psycopg.errors.InvalidParameterValue:
        return False
    return True


def _python_accepts(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except ValueError:
        return False
    return True


def test_methods_are_those_of_pgmetrics_check_method(db: Database) -> None:
    with db.connect() as conn:
        sql_methods = _quoted_list(_source(conn, "pgmetrics._check_method"), "v_method")
        assert set(sql_methods) == METHODS
        for method in [*METHODS, "get", "Patch", "PROPFIND", "", "GET "]:
            sql = _sql_accepts(conn, "SELECT pgmetrics._check_method(%s)", method)
            assert sql == _python_accepts(check_method, method), method


def test_name_length_limit_is_that_of_pgmetrics_check_name(db: Database) -> None:
    with db.connect() as conn:
        for length in (0, 1, MAX_NAME_LENGTH - 1, MAX_NAME_LENGTH, MAX_NAME_LENGTH + 1):
            name = "é" * length
            sql = _sql_accepts(conn, "SELECT pgmetrics._check_name('route', %s)", name)
            assert sql == _python_accepts(check_name, "route", name), length
        assert _python_accepts(check_name, "route", "é" * MAX_NAME_LENGTH)


def test_buckets_are_those_of_pgmetrics_check_summary_range(db: Database) -> None:
    with db.connect() as conn:
        sql_buckets = _quoted_list(_source(conn, "pgmetrics._check_summary_range"), "bucket")
        assert tuple(sql_buckets) == BUCKETS
        for bucket in [*BUCKETS, "DAY", "minute", "", " hour"]:
            sql = _sql_accepts(
                conn,
                "SELECT pgmetrics._check_summary_range(%s, %s, %s, 'UTC')",
                T0,
                T0,
                bucket,
            )
            assert sql == _python_accepts(check_bucket, bucket), bucket


@pytest.mark.parametrize(
    "tz",
    [
        "UTC",
        "Europe/Berlin",
        "Asia/Kathmandu",
        "America/St_Johns",
        "Mars/Olympus",
        "Europe/Atlantis",
    ],
)
def test_time_zone_names_are_checked_alike(db: Database, tz: str) -> None:
    """Python takes IANA names only; PostgreSQL also takes POSIX specifications (``UTC+3``),
    which the Python client never sends. On IANA names the two agree."""
    with db.connect() as conn:
        sql = _sql_accepts(
            conn, "SELECT pgmetrics._check_summary_range(%s, %s, 'hour', %s)", T0, T0, tz
        )
    assert sql == _python_accepts(check_zone, tz)


@pytest.mark.parametrize("end_offset", [timedelta(hours=-1), timedelta(0), timedelta(hours=1)])
def test_the_range_rule_is_that_of_pgmetrics_check_summary_range(
    db: Database, end_offset: timedelta
) -> None:
    with db.connect() as conn:
        sql = _sql_accepts(
            conn,
            "SELECT pgmetrics._check_summary_range(%s, %s, 'hour', 'UTC')",
            T0,
            T0 + end_offset,
        )
    assert sql == _python_accepts(TimeRange, T0, T0 + end_offset)


@pytest.mark.parametrize(
    "duration",
    [
        0.0,
        1.0,
        MAX_DURATION_MS,
        math.nextafter(MAX_DURATION_MS, math.inf),
        1e308,
        sys.float_info.max,
    ],
)
def test_the_duration_bound_is_that_of_the_recording_functions(
    db: Database, duration: float
) -> None:
    with db.connect() as conn:
        for query in (
            "SELECT pgmetrics.record_route_metric('/x', 'GET', true, %s)",
            "SELECT pgmetrics.record_operation_metric('op', true, %s)",
        ):
            try:
                conn.execute(query, (duration,))
                sql = True
            except psycopg.errors.NumericValueOutOfRange:
                sql = False
            assert sql == _python_accepts(check_duration, duration), (query, duration)


def test_the_cell_bounds_are_those_of_the_sql_cell_checks(db: Database) -> None:
    """The SQL checks hold the numbers of pgmetrics.checks; and a client's fullest cell (every
    bucket used, MAX_CELL_COUNT events) has a histogram the database accepts."""
    with db.connect() as conn:
        for function in (
            "pgmetrics._check_cell(timestamptz, bigint, bigint, double precision, double precision,"
            " double precision, timestamptz, bigint, int[], text, text)",
            "pgmetrics._check_batch_cell(jsonb)",
            "pgmetrics.ingest_batch(uuid, pgmetrics.route_cell[], pgmetrics.operation_cell[])",
        ):
            row = conn.execute(
                "SELECT prosrc FROM pg_catalog.pg_proc WHERE oid = %s::regprocedure", (function,)
            ).fetchone()
            assert row is not None
            for bound in (str(MAX_CELL_COUNT), str(MAX_HISTOGRAM_ELEMENTS), "1e15"):
                assert bound in str(row[0]), (function, bound)
    assert MAX_DURATION_MS == 1e15
    counts = {index: MAX_ELEMENT_COUNT + 1 for index in range(-37220, 35489)}
    counts[bucket_index(1.0)] += MAX_CELL_COUNT - sum(counts.values())
    assert sum(counts.values()) == MAX_CELL_COUNT
    assert len(Histogram(counts).to_sql()) <= MAX_HISTOGRAM_ELEMENTS
