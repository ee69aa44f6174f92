"""docs/grafana/pgmetrics.json imports into Grafana and every panel's SQL answers: each query,
its macros substituted as Grafana's PostgreSQL data source substitutes them, runs as a login
member of pgmetrics_reader against a database holding data, and returns rows."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.conftest import Database

DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana" / "pgmetrics.json"
VIEWS = re.compile(r"pgmetrics\.(route|operation)_metrics_by_(hour|day|week|month)\b")


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.extend(panel.get("panels", []))
        if panel.get("type") != "row":
            found.append(panel)
    return found


def queries() -> list[tuple[str, str, str]]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [
        (panel["title"], target["format"], target["rawSql"])
        for panel in panels(board)
        for target in panel["targets"]
    ]


def substitute(text: str, start: datetime, end: datetime) -> str:
    """The macros of Grafana's PostgreSQL data source, as it expands them."""
    lo = start.strftime("'%Y-%m-%dT%H:%M:%SZ'")
    hi = end.strftime("'%Y-%m-%dT%H:%M:%SZ'")
    text = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN {lo} AND {hi}", text)
    text = text.replace("$__timeFrom()", lo).replace("$__timeTo()", hi)
    text = text.replace("$__interval_ms", "3600000").replace("$__interval", "'1h'")
    assert "$" not in text, text
    return text


def test_the_dashboard_is_importable_json() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (source,) = board["__inputs"]
    assert source["pluginId"] == "grafana-postgresql-datasource"
    uid = "${" + source["name"] + "}"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels(board):
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]
        assert panel["targets"], panel["title"]
    assert len(queries()) >= 10


@pytest.mark.parametrize(("title", "kind", "text"), queries(), ids=[q[0] for q in queries()])
def test_a_panel_reads_only_the_views(title: str, kind: str, text: str) -> None:
    named = set(re.findall(r"pgmetrics\.\w+", text))
    assert named, title
    assert all(VIEWS.fullmatch(name) for name in named), (title, named)


@pytest.fixture
def grafana_dsn(db: Database) -> Iterator[str]:
    role = f"grafana_{uuid.uuid4().hex[:10]}"
    with db.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT pgmetrics_reader TO {}").format(sql.Identifier(role)))
        # Forty days of hourly traffic on three routes and two operations, folded into every
        # tier, and the hour under way still pending.
        conn.execute(
            """SELECT pgmetrics.record_route_metric(r, m, h % 7 <> 0, 5 + h % 50,
                   now() - make_interval(hours => h))
               FROM generate_series(0, 960, 5) AS h, (VALUES
                   ('/users/{id}', 'GET'), ('/orders', 'POST'), ('/health', 'GET')) AS k (r, m)"""
        )
        conn.execute(
            """SELECT pgmetrics.record_operation_metric(o, h % 5 <> 0, 20 + h % 30,
                   now() - make_interval(hours => h))
               FROM generate_series(0, 960, 7) AS h, unnest(ARRAY['send_email', 'resize']) AS o"""
        )
        conn.execute("SELECT pgmetrics.fold_events()")
        conn.execute("SELECT pgmetrics.record_route_metric('/health', 'GET', true, 3)")
    yield db.cluster.dsn(db.name, user=role)
    with db.connect() as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_every_panel_answers_as_a_member_of_the_reader(grafana_dsn: str) -> None:
    end = datetime.now(UTC) + timedelta(minutes=1)
    start = end - timedelta(days=45)
    with psycopg.connect(grafana_dsn) as conn:
        assert conn.execute("SELECT current_user").fetchone() != ("postgres",)
        for title, kind, text in queries():
            cursor = conn.execute(substitute(text, start, end))
            rows = cursor.fetchall()
            assert rows, title
            assert all(value is not None for value in rows[0][:1]), (title, rows[0])
            columns = [column.name for column in cursor.description or []]
            if kind == "time_series":
                assert columns[0] == "time", (title, columns)
                assert [r[0] for r in rows] == sorted(r[0] for r in rows), title
