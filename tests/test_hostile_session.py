"""Every public function gives the same results whatever the caller's session: its TimeZone,
DateStyle, IntervalStyle and a search_path that puts look-alikes of pg_catalog's objects first.

One scenario (recording, batches, folds, report zones, retention, every summary bucket, the
quantiles, the views, report_status) runs twice, each in a database of its own: once in a plain
session, once in a hostile one. Everything it returns, and the daily partitions it leaves, must
be equal; no look-alike may run."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from devtools.localcluster import LocalCluster
from tests.conftest import Database, create_database, drop_database

UTC = dt.UTC

HOSTILE_SETTINGS = (
    "SET TimeZone = 'Asia/Shanghai'",
    "SET DateStyle = 'SQL, MDY'",
    "SET IntervalStyle = 'sql_standard'",
    "SET search_path = hostile, pg_catalog, pgmetrics, public",
)

# Look-alikes of what the functions call, each noting that it ran and returning a wrong value.
HOSTILE_SCHEMA = """
CREATE SCHEMA hostile;
GRANT USAGE ON SCHEMA hostile TO public;
CREATE TABLE hostile.ran (what text);
GRANT INSERT, SELECT ON hostile.ran TO public;
CREATE FUNCTION hostile.note(what text) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$ INSERT INTO hostile.ran VALUES (what) $$;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('now'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.date_trunc(text, timestamptz, text) RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('date_trunc'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.date_trunc(text, timestamptz) RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('date_trunc'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION hostile.format(text, VARIADIC text[]) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('format'); RETURN 'SELECT 1'; END $$;
CREATE FUNCTION hostile.to_char(timestamp, text) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('to_char'); RETURN 'x'; END $$;
CREATE FUNCTION hostile.lower(text) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('lower'); RETURN 'x'; END $$;
CREATE FUNCTION hostile.upper(text) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('upper'); RETURN 'X'; END $$;
CREATE FUNCTION hostile.make_interval(years int = 0, months int = 0, weeks int = 0, days int = 0,
    hours int = 0, mins int = 0, secs double precision = 0) RETURNS interval LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM hostile.note('make_interval'); RETURN '0'; END $$;
CREATE FUNCTION hostile.tstz_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM hostile.note('<'); RETURN true; END $$;
CREATE OPERATOR hostile.< (
    LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.tstz_lt
);
CREATE TABLE hostile.settings (name text, value integer);
CREATE TABLE hostile.locks (name text);
CREATE TABLE hostile.route_metrics (period_start timestamptz);
CREATE TABLE hostile.report_zones (zone text);
GRANT ALL ON ALL TABLES IN SCHEMA hostile TO public;
"""

ROUTE_VIEWS = ("route_metrics_by_hour", "route_metrics_by_day", "route_metrics_by_week")
VIEWS = (
    *ROUTE_VIEWS,
    "route_metrics_by_month",
    "operation_metrics_by_hour",
    "operation_metrics_by_day",
    "operation_metrics_by_week",
    "operation_metrics_by_month",
)
BUCKETS = ("hour", "day", "week", "month", "all")
ZONES = ("UTC", "America/Chicago", "Asia/Kolkata")


@pytest.fixture
def second_db(cluster: LocalCluster, template: str) -> Iterator[Database]:
    database = create_database(cluster, template)
    try:
        yield database
    finally:
        drop_database(database)


def _session(conn: psycopg.Connection[Any], hostile: bool) -> None:
    if hostile:
        for statement in HOSTILE_SETTINGS:
            conn.execute(statement)
    else:
        conn.execute("SET TimeZone = 'UTC'")


def _as(conn: psycopg.Connection[Any], role: str | None) -> None:
    if role is None:
        conn.execute("RESET ROLE")
    else:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


# Results come in binary: psycopg parses timestamps as text only in DateStyle ISO, and binary
# values do not depend on the session; jsonb, rendered by the functions, is compared as text.
def _one(conn: psycopg.Connection[Any], query: str, params: dict[str, object]) -> Any:
    row = conn.execute(query, params, binary=True).fetchone()
    assert row is not None
    return row[0]


def _rows(conn: psycopg.Connection[Any], query: str, params: dict[str, object]) -> list[Any]:
    return list(conn.execute(query, params, binary=True).fetchall())


def _scenario(
    database: Database, hostile: bool, base: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    """Runs every public function once, returning what each gave (row values as Python objects,
    so that a timestamptz compares by its instant, and a text rendering by its text)."""
    out: dict[str, Any] = {}
    with database.connect() as conn:
        conn.execute(HOSTILE_SCHEMA)
        _session(conn, hostile)
        out["set_setting"] = _one(
            conn, "SELECT pgmetrics.set_setting('summary_retention_days', 800)", {}
        )
        out["add_report_zone"] = _one(
            conn, "SELECT pgmetrics.add_report_zone('america/chicago')", {}
        )
        _as(conn, "pgmetrics_writer")
        # Hours at both ends of UTC days, where a day bounded in another zone would split them.
        for day in range(4):
            for hour, minute in ((0, 10), (13, 30), (23, 50)):
                at = base + dt.timedelta(days=day, hours=hour, minutes=minute)
                conn.execute(
                    "SELECT pgmetrics.record_route_metric('/r/{id}', 'GET', %(ok)s, %(ms)s,"
                    " %(at)s)",
                    {"ok": hour != 13, "ms": 1.5 + day + hour, "at": at},
                )
                conn.execute(
                    "SELECT pgmetrics.record_operation_metric('job', %(ok)s, %(ms)s, %(at)s)",
                    {"ok": hour != 0, "ms": 3.0 + hour, "at": at},
                )
        cell_hour = base + dt.timedelta(days=1, hours=23)
        out["ingest_batch_cells"] = _one(
            conn,
            "SELECT pgmetrics.ingest_batch(%(id)s,"
            " ARRAY[ROW('/r/{id}', 'POST', %(hour)s, 3, 2, 36.5, 0, 24.0, %(last)s, 1,"
            " ARRAY[(127 << 15) | 1, (159 << 15) | 1])::pgmetrics.route_cell],"
            " ARRAY[ROW('job', %(hour)s, 2, 2, 36.5, 12.5, 24.0, %(last)s, 0,"
            " ARRAY[(127 << 15) | 1, (159 << 15) | 1])::pgmetrics.operation_cell])",
            {
                "id": uuid.UUID(int=1),
                "hour": cell_hour,
                "last": cell_hour + dt.timedelta(minutes=59),
            },
        )
        # The jsonb form, its hours written in ISO 8601 as the wire format says.
        iso = (base + dt.timedelta(days=2, hours=23)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out["ingest_batch_jsonb"] = _one(
            conn,
            "SELECT pgmetrics.ingest_batch(%(id)s, %(routes)s::jsonb, %(operations)s::jsonb)",
            {
                "id": uuid.UUID(int=2),
                "routes": json.dumps(
                    [
                        {
                            "r": "/r/{id}",
                            "m": "DELETE",
                            "h": iso,
                            "n": 3,
                            "s": 2,
                            "f": 1,
                            "d": 6,
                            "lo": 1,
                            "hi": 3,
                            "t": iso,
                            "zero_count": 0,
                            "histogram": [1802243],
                        }
                    ]
                ),
                "operations": json.dumps(
                    [
                        {
                            "o": "job",
                            "h": iso,
                            "n": 2,
                            "s": 2,
                            "f": 0,
                            "d": 4,
                            "lo": 1,
                            "hi": 3,
                            "t": iso,
                            "zero_count": 0,
                            "histogram": [1802242],
                        }
                    ]
                ),
            },
        )
        _as(conn, None)
        out["fold_events"] = _one(conn, "SELECT pgmetrics.fold_events()", {})
        out["fold_events_no_wait"] = _one(conn, "SELECT pgmetrics.fold_events(wait => false)", {})
        result = _one(conn, "SELECT pgmetrics.run_retention(%(now)s)", {"now": now})
        out["run_retention"] = result
        _as(conn, "pgmetrics_reader")
        start = base - dt.timedelta(days=40)
        end = base + dt.timedelta(days=10)
        for zone in ZONES:
            for bucket in BUCKETS:
                params = {"start": start, "end": end, "bucket": bucket, "tz": zone}
                out[f"route_metrics_summary {bucket} {zone}"] = _rows(
                    conn,
                    "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, %(bucket)s,"
                    " tz => %(tz)s) ORDER BY 1, 2, 3",
                    params,
                )
                out[f"operation_metrics_summary {bucket} {zone}"] = _rows(
                    conn,
                    "SELECT * FROM pgmetrics.operation_metrics_summary(%(start)s, %(end)s,"
                    " %(bucket)s, tz => %(tz)s) ORDER BY 1, 2",
                    params,
                )
        for q in (0.5, 0.99):
            span = {"q": q, "start": start, "end": end}
            out[f"route_duration_quantile {q}"] = _one(
                conn, "SELECT pgmetrics.route_duration_quantile(%(q)s, %(start)s, %(end)s)", span
            )
            out[f"operation_duration_quantile {q}"] = _one(
                conn,
                "SELECT pgmetrics.operation_duration_quantile(%(q)s, %(start)s, %(end)s)",
                span,
            )
        for view in VIEWS:
            out[view] = _rows(
                conn,
                f"SELECT * FROM pgmetrics.{view} ORDER BY 1, 2, 3",
                {},
            )
        _as(conn, None)
        status = _one(conn, "SELECT pgmetrics.report_status()", {})
        del status["last_retention_run"]["started_at"]  # when the run started: differs per run
        out["report_status"] = status
        out["remove_report_zone"] = _one(
            conn, "SELECT pgmetrics.remove_report_zone('America/Chicago')", {}
        )
        out["day after remove"] = _rows(
            conn,
            "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'day',"
            " tz => 'America/Chicago') ORDER BY 1, 2, 3",
            {"start": start, "end": end},
        )
        out["hostile objects that ran"] = _rows(conn, "SELECT DISTINCT what FROM hostile.ran", {})
        # The partitions, their bounds rendered in a plain session.
        _session(conn, False)
        conn.execute("RESET DateStyle")
        conn.execute("RESET IntervalStyle")
        conn.execute("RESET search_path")
        out["partitions"] = _rows(
            conn,
            "SELECT c.relname, pg_catalog.pg_get_expr(c.relpartbound, c.oid)"
            " FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid"
            " WHERE i.inhparent IN ('pgmetrics.route_metrics'::regclass,"
            " 'pgmetrics.operation_metrics'::regclass)"
            " ORDER BY 1",
            {},
        )
    return out


def test_every_public_function_ignores_the_callers_session(
    db: Database, second_db: Database
) -> None:
    today = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    base = today - dt.timedelta(days=5)
    now = dt.datetime.now(UTC)
    plain = _scenario(db, False, base, now)
    hostile = _scenario(second_db, True, base, now)
    assert hostile["hostile objects that ran"] == []
    # Each day's partition holds that UTC day, named for it.
    for name, bound in plain["partitions"]:
        if name.endswith("_default"):
            continue
        day = dt.datetime.strptime(name[-8:], "%Y%m%d").date()
        assert bound == (
            f"FOR VALUES FROM ('{day} 00:00:00+00') TO ('{day + dt.timedelta(days=1)} 00:00:00+00')"
        )
    assert sum(r[3] for r in plain["route_metrics_summary all UTC"]) == 4 * 3 + 3 + 3
    differing = sorted(key for key in plain if plain[key] != hostile[key])
    assert differing == [], {key: (plain[key], hostile[key]) for key in differing}
