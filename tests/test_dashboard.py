"""The dashboard's requests without a browser: who is let in, what is refused, what the data
answer holds against the summaries, and what the page weighs. The browser tests are in
test_dashboard_browser.py."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote_plus

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from pgmetrics.web.dashboard import COOKIE, Dashboard, Response
from pgmetrics.web.dashboard.data import Window, bucket_starts, choose_bucket, nearest_rank
from tests.conftest import Database

TOKEN = "dash-" + uuid.uuid4().hex
STATIC = Path(__file__).resolve().parent.parent / "pgmetrics" / "web" / "dashboard" / "static"


@pytest.fixture
def reader(db: Database) -> Iterator[str]:
    role = f"dash_{uuid.uuid4().hex[:10]}"
    with db.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT pgmetrics_reader TO {}").format(sql.Identifier(role)))
        conn.execute(
            """SELECT pgmetrics.record_route_metric('/a', 'GET', n % 4 <> 0, n,
                   now() - interval '3 hours' + n * interval '1 minute')
               FROM generate_series(1, 80) AS n"""
        )
        conn.execute(
            """SELECT pgmetrics.record_route_metric('/b', 'POST', true, 500,
                   now() - interval '30 hours')"""
        )
        conn.execute(
            "SELECT pgmetrics.record_operation_metric('job', false, 7, now() - interval '2 hours')"
        )
    yield db.cluster.dsn(db.name, user=role)
    with db.connect() as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def board(reader: str) -> Iterator[Dashboard]:
    dashboard = Dashboard(reader, token=TOKEN)
    yield dashboard
    dashboard.close()


def get(
    board: Dashboard, path: str, query: dict[str, str] | None = None, **headers: str
) -> Response:
    return board.handle("GET", path, query or {}, headers)


BEARER = {"authorization": f"Bearer {TOKEN}"}


def test_without_a_token_configured_every_page_is_refused(
    reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBSERVABILITY_METRICS_ADMIN_TOKEN", raising=False)
    board = Dashboard(reader)
    for path in ("", "/data", "/route", "/login"):
        answer = board.handle("GET", path, {}, {"authorization": "Bearer anything"})
        assert answer.status == 403, path
    assert board.handle("POST", "/login", {}, {}, b"token=").status == 403


def test_a_missing_or_wrong_token_is_refused(board: Dashboard) -> None:
    assert get(board, "/data").status == 401
    assert get(board, "/data", authorization="Bearer wrong").status == 401
    assert get(board, "/data", cookie=f"{COOKIE}=wrong").status == 401
    page = get(board, "")
    assert page.status == 401
    assert b'name="token"' in page.body  # the login form
    wrong = board.handle("POST", "/login", {}, {}, b"token=wrong")
    assert wrong.status == 401
    assert not [v for n, v in wrong.all_headers() if n == "Set-Cookie"]


def test_the_login_sets_an_http_only_strict_cookie_that_lets_in(board: Dashboard) -> None:
    answer = board.handle("POST", "/login", {}, {}, f"token={TOKEN}".encode())
    assert answer.status == 303
    (cookie,) = [v for n, v in answer.all_headers() if n == "Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/dashboard" in cookie
    assert "Secure" not in cookie
    value = cookie.split(";")[0]
    assert get(board, "/data", cookie=value).status == 200
    assert get(board, "", cookie=value).status == 200
    secure = board.handle("POST", "/login", {}, {}, f"token={TOKEN}".encode(), secure=True)
    assert "Secure" in dict(secure.all_headers())["Set-Cookie"]


def test_a_token_outside_the_cookie_grammar_still_logs_in(reader: str) -> None:
    token = TOKEN + ' a; b="c"\\ é'
    board = Dashboard(reader, token=token)
    try:
        body = ("token=" + quote_plus(token)).encode()
        answer = board.handle("POST", "/login", {}, {}, body)
        assert answer.status == 303
        cookie = dict(answer.all_headers())["Set-Cookie"].split(";")[0]
        assert get(board, "/data", cookie=cookie).status == 200
    finally:
        board.close()


def test_only_get_reads(board: Dashboard) -> None:
    assert board.handle("POST", "/data", {}, BEARER).status == 405
    assert board.handle("DELETE", "", {}, BEARER).status == 405


def test_the_data_is_the_summary_of_the_range(board: Dashboard, reader: str) -> None:
    answer = get(board, "/data", {"range": "24h", "tz": "Europe/Paris"}, **BEARER)
    assert answer.status == 200
    data = json.loads(answer.body)
    start = datetime.fromisoformat(data["range"]["start"])
    end = datetime.fromisoformat(data["range"]["end"])
    assert data["range"]["bucket"] == "hour"
    with psycopg.connect(reader, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT * FROM pgmetrics.route_metrics_summary(%s, %s, 'all', tz => 'Europe/Paris')",
            (start, end),
        ).fetchall()
        (p95,) = conn.execute(
            "SELECT pgmetrics.route_duration_quantile(0.95, %s, %s) AS q", (start, end)
        ).fetchall()
        series = conn.execute(
            """SELECT bucket_start, sum(total_requests) AS total
               FROM pgmetrics.route_metrics_summary(%s, %s, 'hour', tz => 'Europe/Paris')
               GROUP BY 1 ORDER BY 1""",
            (start, end),
        ).fetchall()
    assert [(k["name"], k["method"], k["total"], k["failed"]) for k in data["keys"]] == [
        (r["route"], r["method"], r["total_requests"], r["failed"]) for r in rows
    ]
    assert data["totals"]["current"]["total"] == 80
    assert data["totals"]["current"]["failed"] == 20
    assert data["totals"]["previous"]["total"] == 1
    assert math.isclose(data["totals"]["current"]["p95_ms"], p95["q"], rel_tol=1e-12)
    assert [(s["bucket_start"], s["total"]) for s in data["series"] if s["name"] is None] == [
        (r["bucket_start"].isoformat(), r["total"]) for r in series
    ]
    assert sum(count for _, _, count in data["histogram"]) == 80
    assert {s["bucket_start"] for s in data["series"]} <= set(data["buckets"])


def test_a_key_and_the_operations(board: Dashboard) -> None:
    one = json.loads(get(board, "/data", {"route": "/a", "method": "get"}, **BEARER).body)
    assert [(k["name"], k["method"]) for k in one["keys"]] == [("/a", "GET")]
    ops = json.loads(get(board, "/data", {"view": "operations"}, **BEARER).body)
    assert [(k["name"], k["total"], k["failed"]) for k in ops["keys"]] == [("job", 1, 1)]


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ({"range": "2y"}, "range"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"range": "custom", "start": "yesterday", "end": "2026-01-01"}, "start"),
        ({"range": "custom", "start": "2026-01-02", "end": "2026-01-01"}, "before"),
        ({"method": "FETCH"}, "method"),
        ({"evil": "<script>"}, "unknown"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    board: Dashboard, query: dict[str, str], word: str
) -> None:
    answer = get(board, "/data", query, **BEARER)
    assert answer.status == 400
    assert answer.content_type == "application/json"
    assert word in json.loads(answer.body)["error"]


def test_nothing_a_request_sends_is_echoed_into_a_page(board: Dashboard) -> None:
    marker = "<script>alert(1)</script>"
    for path, query in (("", {"route": marker}), ("/route", {"route": marker, "tz": marker})):
        page = get(board, path, query, **BEARER)
        assert page.status == 200
        assert b"alert(1)" not in page.body
    refused = board.handle("POST", "/login", {}, {}, f"token={marker}".encode())
    assert b"alert(1)" not in refused.body
    headers = dict(get(board, "", None, **BEARER).all_headers())
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_and_its_assets_weigh_under_300_kb(board: Dashboard) -> None:
    assets = sorted(STATIC.iterdir())
    assert {p.name for p in assets} == {
        "dashboard.html",
        "dashboard.js",
        "dashboard.css",
        "login.html",
    }
    assert sum(p.stat().st_size for p in assets) < 300_000
    for name in ("dashboard.js", "dashboard.css"):
        assert get(board, f"/static/{name}").status == 200
    assert get(board, "/static/../__init__.py").status == 404
    # No address outside the server: no CDN, no font, no analytics.
    for path in assets:
        assert "http://" not in path.read_text().replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in path.read_text()


def test_buckets_follow_the_range() -> None:
    assert choose_bucket(timedelta(hours=24)) == "hour"
    assert choose_bucket(timedelta(days=7)) == "day"
    assert choose_bucket(timedelta(days=30)) == "day"
    assert choose_bucket(timedelta(days=365)) == "week"
    assert choose_bucket(timedelta(days=1000)) == "month"
    end = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    days = bucket_starts(Window(end - timedelta(days=3), end, "Asia/Kolkata", "day", None))
    assert [d.isoformat() for d in days] == [
        "2026-03-06T18:30:00+00:00",
        "2026-03-07T18:30:00+00:00",
        "2026-03-08T18:30:00+00:00",
        "2026-03-09T18:30:00+00:00",
    ]


def test_nearest_rank_is_the_quantile_functions() -> None:
    buckets = [(0.0, 0.0, 2), (0.98, 1.0, 3), (9.9, 10.1, 5)]
    assert nearest_rank(buckets, 0.1, 0.0, 10.0) == 0.0
    assert nearest_rank(buckets, 0.5, 0.0, 10.0) == pytest.approx(0.99, rel=0.01)
    assert nearest_rank(buckets, 1.0, 0.0, 10.0) == 10.0
    assert nearest_rank([], 0.5, None, None) is None
