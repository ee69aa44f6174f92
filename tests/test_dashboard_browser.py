"""The dashboard in a real headless Chromium, served by ``pgmetrics serve`` on a free port from a
database holding known data, read as a member of pgmetrics_reader: the numbers shown are the
summaries', every chart draws its series, sorting and the range picker change what is shown, a
wrong token is refused, and the console stays clean. Screenshots go to each test's tmp_path."""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import Database, create_database, drop_database
from tests.real_servers import Server, free_port, serve, server_env

pytestmark = pytest.mark.slow

TOKEN = "dash-" + uuid.uuid4().hex
# (route, method, ok, failed, duration of each ms, hours ago)
ROUTES = [
    ("/users/{id}", "GET", 35, 5, 12.0, 2),
    ("/users/{id}", "GET", 10, 0, 30.0, 5),
    ("/orders", "POST", 7, 3, 250.0, 3),
    ("/health", "GET", 60, 0, 1.5, 4),
    ("/search", "GET", 12, 1, 90.0, 10),
    ("/users/{id}", "GET", 20, 2, 15.0, 30),  # the period before the last 24 hours
    ("/reports/<b>&amp;", "GET", 4, 4, 800.0, 72),  # only in the last 7 days; markup is text
]
OPERATIONS = [("send_email", 18, 2, 120.0, 3), ("resize_image", 9, 0, 40.0, 6)]


def chromium() -> tuple[str, str]:
    # CI installs both through scripts/setup: missing, the test fails rather than skips.
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    assert browser, "chromium is missing: run scripts/setup"
    assert driver, "chromium-driver is missing: run scripts/setup"
    return browser, driver


@pytest.fixture(scope="module")
def board_db(cluster: Any, template: str) -> Iterator[Database]:
    database = create_database(cluster, template)
    with database.connect() as conn:
        for route, method, ok, failed, ms, hours in ROUTES:
            conn.execute(
                """SELECT pgmetrics.record_route_metric(%s, %s, n > %s, %s * (1 + n / 100.0),
                       now() - make_interval(hours => %s) + n * interval '1 second')
                   FROM generate_series(1, %s) AS n""",
                (route, method, failed, ms, hours, ok + failed),
            )
        for operation, ok, failed, ms, hours in OPERATIONS:
            conn.execute(
                """SELECT pgmetrics.record_operation_metric(%s, n > %s, %s * (1 + n / 100.0),
                       now() - make_interval(hours => %s) + n * interval '1 second')
                   FROM generate_series(1, %s) AS n""",
                (operation, failed, ms, hours, ok + failed),
            )
        # Some rows folded into the tiers, the rest pending: the page reads both.
        conn.execute("SELECT pgmetrics.fold_events()")
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/health', 'GET', true, 2.0,"
            " now() - interval '1 hour')"
        )
    yield database
    drop_database(database)


@pytest.fixture(scope="module")
def reader_dsn(board_db: Database) -> Iterator[str]:
    role = f"dash_{uuid.uuid4().hex[:10]}"
    with board_db.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT pgmetrics_reader TO {}").format(sql.Identifier(role)))
    yield board_db.cluster.dsn(board_db.name, user=role)
    with board_db.connect() as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def server(reader_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    env = server_env(reader_dsn, None, OBSERVABILITY_METRICS_ADMIN_TOKEN=TOKEN)
    cwd = tmp_path_factory.mktemp("dashboard-server")
    command = ["pgmetrics.cli", "serve", "--port", str(port)]
    with serve(command, cwd, env, port, "serve") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    binary, driver_path = chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,1100",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def console_errors(driver: WebDriver) -> list[str]:
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[attr-defined]
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def wait_ready(driver: WebDriver) -> None:
    def state(d: WebDriver) -> str | None:
        value: str | None = d.execute_script(
            "return document.body && document.body.getAttribute('data-state')"
        )
        return value if value in ("ready", "error") else None

    WebDriverWait(driver, 20).until(state)
    assert state(driver) == "ready", driver.find_element(By.ID, "error").text


def log_in(driver: WebDriver, server: Server, token: str = TOKEN) -> None:
    driver.delete_all_cookies()
    driver.get(f"{server.url}/dashboard")
    field = driver.find_element(By.ID, "token")
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login button").click()


@pytest.fixture
def page(browser: WebDriver, server: Server, tmp_path: Path) -> Iterator[WebDriver]:
    """Logged in on the routes page; the console must stay clean during the test."""
    log_in(browser, server)
    wait_ready(browser)
    console_errors(browser)  # what loading the login page logged is not the dashboard's
    yield browser
    browser.save_screenshot(str(tmp_path / "end.png"))
    assert console_errors(browser) == []


def shown_range(driver: WebDriver) -> tuple[datetime, datetime]:
    subtitle = driver.find_element(By.ID, "subtitle")
    return (
        datetime.fromisoformat(subtitle.get_attribute("data-start") or ""),
        datetime.fromisoformat(subtitle.get_attribute("data-end") or ""),
    )


def summary(dsn: str, start: datetime, end: datetime, **filters: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(
            """SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'all',
                   route => %(route)s, method => %(method)s)""",
            {"start": start, "end": end, "route": None, "method": None, **filters},
        ).fetchall()


def quantile(dsn: str, q: float, start: datetime, end: datetime) -> float:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT pgmetrics.route_duration_quantile(%s, %s, %s)", (q, start, end)
        ).fetchone()
    assert row is not None
    return float(row[0])


def table(driver: WebDriver) -> list[dict[str, str]]:
    rows = []
    for tr in driver.find_elements(By.CSS_SELECTOR, "#keys tbody tr[data-key]"):
        rows.append(
            {
                td.get_attribute("data-field") or "": td.get_attribute("data-value") or ""
                for td in tr.find_elements(By.TAG_NAME, "td")
            }
            | {"key": tr.get_attribute("data-key") or ""}
        )
    return rows


def card(driver: WebDriver, metric: str) -> str:
    return (
        driver.find_element(By.CSS_SELECTOR, f'.card[data-metric="{metric}"] .value').get_attribute(
            "data-value"
        )
        or ""
    )


def close(shown: str, expected: float | None) -> bool:
    if expected is None:
        return shown == ""
    return math.isclose(float(shown), float(expected), rel_tol=1e-9, abs_tol=1e-12)


def test_a_wrong_token_is_refused(browser: WebDriver, server: Server, tmp_path: Path) -> None:
    log_in(browser, server, token="not-" + TOKEN)
    browser.save_screenshot(str(tmp_path / "refused.png"))
    assert browser.find_element(By.ID, "message").text == "Wrong token."
    assert browser.find_elements(By.ID, "cards") == []
    assert [c for c in browser.get_cookies() if c["name"] == "pgmetrics_dashboard"] == []
    wrong = httpx.get(
        f"{server.url}/dashboard/data", headers={"Authorization": f"Bearer not-{TOKEN}"}
    )
    assert wrong.status_code == 401
    assert httpx.get(f"{server.url}/dashboard/data").status_code == 401
    right = httpx.get(f"{server.url}/dashboard/data", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200


def test_the_login_sets_an_http_only_strict_cookie(page: WebDriver) -> None:
    (cookie,) = [c for c in page.get_cookies() if c["name"] == "pgmetrics_dashboard"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert page.execute_script("return document.cookie") == ""


def test_the_numbers_shown_are_the_summary_of_the_range(
    page: WebDriver, reader_dsn: str, tmp_path: Path
) -> None:
    page.save_screenshot(str(tmp_path / "routes.png"))
    start, end = shown_range(page)
    assert end - start == timedelta(hours=24)
    expected = summary(reader_dsn, start, end)
    shown = {row["key"]: row for row in table(page)}
    assert set(shown) == {f"{r['method']} {r['route']}" for r in expected}
    for row in expected:
        got = shown[f"{row['method']} {row['route']}"]
        assert int(got["total"]) == row["total_requests"]
        assert int(got["failed"]) == row["failed"]
        for field, column in (
            ("error_rate", "error_rate"),
            ("p50_ms", "p50_duration_ms"),
            ("p95_ms", "p95_duration_ms"),
            ("p99_ms", "p99_duration_ms"),
            ("max_ms", "max_duration_ms"),
        ):
            assert close(got[field], row[column]), (field, got, row)
    total = sum(r["total_requests"] for r in expected)
    failed = sum(r["failed"] for r in expected)
    assert int(card(page, "total")) == total == 35 + 5 + 10 + 10 + 60 + 13 + 1
    assert close(card(page, "error_rate"), failed / total)
    for name, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        assert close(card(page, name), quantile(reader_dsn, q, start, end)), name
    # The figure a person reads, formatted.
    shown_total = page.find_element(By.CSS_SELECTOR, '.card[data-metric="total"] .value').text
    assert shown_total == f"{total:,}"


def test_each_chart_draws_its_series(page: WebDriver) -> None:
    charts = {
        figure.get_attribute("data-chart"): figure
        for figure in page.find_elements(By.CSS_SELECTOR, "#charts figure")
    }
    assert set(charts) == {"rate", "errors", "latency", "histogram"}
    expected = {"rate": 2, "errors": 1, "latency": 4}  # four routes in the last 24 hours
    for name, count in expected.items():
        paths = charts[name].find_elements(By.CSS_SELECTOR, "path.series")
        assert len(paths) == count, name
        assert all((path.get_attribute("d") or "").startswith("M") for path in paths), name
        legend = charts[name].find_elements(By.CSS_SELECTOR, ".legend span")
        assert len(legend) == count, name
        assert charts[name].find_elements(By.CSS_SELECTOR, ".axis text"), name
    bars = charts["histogram"].find_elements(By.CSS_SELECTOR, "rect.bar-rect")
    assert sum(1 for bar in bars if float(bar.get_attribute("height") or 0) > 0) >= 4


def test_sorting_changes_the_order(page: WebDriver) -> None:
    by_requests = [row["key"] for row in table(page)]
    assert by_requests[0] == "GET /health"
    page.find_element(By.CSS_SELECTOR, 'th[data-sort="failed"]').click()
    by_errors = [row["key"] for row in table(page)]
    assert by_errors[0] == "GET /users/{id}"  # 5 failed
    page.find_element(By.CSS_SELECTOR, 'th[data-sort="failed"]').click()
    assert table(page)[0]["key"] == "GET /health"  # ascending: none failed
    page.find_element(By.CSS_SELECTOR, 'th[data-sort="error_rate"]').click()
    assert table(page)[0]["key"] == "POST /orders"  # 30 %
    page.find_element(By.CSS_SELECTOR, 'th[data-sort="p99_ms"]').click()
    assert table(page)[0]["key"] == "POST /orders"
    assert by_errors != by_requests


def test_the_range_picker_changes_what_is_shown(
    page: WebDriver, reader_dsn: str, tmp_path: Path
) -> None:
    assert "GET /reports/<b>&amp;" not in [row["key"] for row in table(page)]
    page.find_element(By.CSS_SELECTOR, '.ranges button[data-range="7d"]').click()
    WebDriverWait(page, 20).until(lambda d: "range=7d" in d.current_url)
    wait_ready(page)
    page.save_screenshot(str(tmp_path / "seven-days.png"))
    start, end = shown_range(page)
    assert (end - start).days == 7
    rows = {row["key"]: row for row in table(page)}
    # Markup in a route is shown as text, never parsed.
    assert "GET /reports/<b>&amp;" in rows
    assert page.find_elements(By.CSS_SELECTOR, "#keys tbody b") == []
    expected = summary(reader_dsn, start, end)
    assert int(card(page, "total")) == sum(r["total_requests"] for r in expected)
    # A custom range of one day three days back: only the reports route.
    page.find_element(By.CSS_SELECTOR, '.ranges button[data-range="custom"]').click()
    page.execute_script(
        # Wall times in the page's zone, which is the browser's.
        """const now = Date.now();
        const fmt = (t) =>
            new Date(t - new Date(t).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
        document.getElementById("start").value = fmt(now - 80 * 3600000);
        document.getElementById("end").value = fmt(now - 60 * 3600000);"""
    )
    page.find_element(By.ID, "apply").click()
    WebDriverWait(page, 20).until(lambda d: "range=custom" in d.current_url)
    wait_ready(page)
    assert [row["key"] for row in table(page)] == ["GET /reports/<b>&amp;"]
    assert int(card(page, "total")) == 8


def test_a_route_has_its_own_page(page: WebDriver, reader_dsn: str, tmp_path: Path) -> None:
    page.find_element(By.CSS_SELECTOR, '#keys tr[data-key="GET /users/{id}"] a').click()
    WebDriverWait(page, 20).until(lambda d: "/dashboard/route?" in d.current_url)
    wait_ready(page)
    page.save_screenshot(str(tmp_path / "route.png"))
    assert page.find_element(By.ID, "title").text == "GET /users/{id}"
    start, end = shown_range(page)
    (row,) = summary(reader_dsn, start, end, route="/users/{id}", method="GET")
    assert int(card(page, "total")) == row["total_requests"] == 50
    assert close(card(page, "p95_ms"), row["p95_duration_ms"])
    assert close(card(page, "p99_ms"), row["p99_duration_ms"])
    latency = page.find_element(By.CSS_SELECTOR, 'figure[data-chart="latency"]')
    names = [
        p.get_attribute("data-series")
        for p in latency.find_elements(By.CSS_SELECTOR, "path.series")
    ]
    assert names == ["p50", "p95", "p99"]
    bars = page.find_elements(By.CSS_SELECTOR, 'figure[data-chart="histogram"] rect.bar-rect')
    assert bars
    # The period before: 22 requests 30 hours ago.
    before = page.find_element(By.CSS_SELECTOR, '.card[data-metric="total"] .before').text
    assert "22" in before


def test_the_operations_page(page: WebDriver, server: Server, tmp_path: Path) -> None:
    page.find_element(By.ID, "nav-operations").click()
    WebDriverWait(page, 20).until(lambda d: "/dashboard/operations" in d.current_url)
    wait_ready(page)
    page.save_screenshot(str(tmp_path / "operations.png"))
    assert [row["key"] for row in table(page)] == ["send_email", "resize_image"]
    assert int(card(page, "total")) == 29
    paths = page.find_elements(By.CSS_SELECTOR, 'figure[data-chart="latency"] path.series')
    assert len(paths) == 2
    page.find_element(By.CSS_SELECTOR, '#keys tr[data-key="send_email"] a').click()
    WebDriverWait(page, 20).until(lambda d: "/dashboard/operation?" in d.current_url)
    wait_ready(page)
    page.save_screenshot(str(tmp_path / "operation.png"))
    assert page.find_element(By.ID, "title").text == "send_email"
    assert int(card(page, "total")) == 20
    assert close(card(page, "error_rate"), 2 / 20)
    bars = page.find_elements(By.CSS_SELECTOR, 'figure[data-chart="histogram"] rect.bar-rect')
    assert bars


def test_the_time_zone_is_the_pages(page: WebDriver, reader_dsn: str) -> None:
    Select(page.find_element(By.ID, "tz")).select_by_value("Asia/Tokyo")
    WebDriverWait(page, 20).until(lambda d: "tz=Asia%2FTokyo" in d.current_url)
    wait_ready(page)
    subtitle = page.find_element(By.ID, "subtitle").text
    assert "(Asia/Tokyo)" in subtitle
    start, end = shown_range(page)
    # The range's times in the zone, nine hours ahead of UTC.
    local = start.astimezone(ZoneInfo("Asia/Tokyo"))
    assert subtitle.startswith(f"{local.day} {local:%b %Y}, {local:%H:%M}")
    assert int(card(page, "total")) == sum(
        r["total_requests"] for r in summary(reader_dsn, start, end)
    )
