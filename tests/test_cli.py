"""The pgmetrics command against the test cluster: every subcommand, and its errors."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from psycopg import sql

from pgmetrics.cli import main
from tests.conftest import Database

ADMIN_TOKEN = "cli-test-token"  # noqa: S105


@pytest.fixture
def env_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("OBSERVABILITY_METRICS_DATABASE_URL", db.dsn)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("OBSERVABILITY_METRICS_RETENTION_DAYS", raising=False)
    return db


@pytest.fixture
def recorded(env_db: Database) -> Database:
    with env_db.connect() as conn:
        for duration in (10.0, 20.0, 300.0):
            conn.execute(
                "SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', %s, %s)",
                (duration < 100, duration),
            )
        conn.execute("SELECT pgmetrics.record_route_metric('/orders', 'POST', true, 5)")
        conn.execute("SELECT pgmetrics.record_operation_metric('send_email', true, 120)")
    return env_db


@pytest.mark.slow
def test_deploy_applies_retention_days_and_shows_each_change(
    empty_db: Database, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OBSERVABILITY_METRICS_DATABASE_URL", empty_db.dsn)
    monkeypatch.setenv("OBSERVABILITY_METRICS_RETENTION_DAYS", "30")
    assert main(["deploy"]) == 0
    out = capfd.readouterr().out
    assert "retention_days = 30" in out
    # A deploy takes seconds: sqitch prints each change as it goes instead of nothing.
    assert "  + table_route_events " in out
    assert "  + function_report_status " in out
    with empty_db.connect() as conn:
        assert conn.execute("SELECT pgmetrics._setting('retention_days')").fetchone() == (30,)
    assert main(["deploy"]) == 0


def test_deploy_rejects_bad_retention_days(
    env_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OBSERVABILITY_METRICS_RETENTION_DAYS", "-5")
    assert main(["deploy"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pgmetrics: error: OBSERVABILITY_METRICS_RETENTION_DAYS")
    assert "Traceback" not in err


def test_status_counts_pending_events_then_the_folded_tiers(
    recorded: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "route_metrics" in out
    assert "last retention run: never" in out
    assert "pg_cron: not installed" in out
    assert main(["status", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    # The direct calls are pending events until a fold moves them into the tiers.
    assert status["tiers"]["route_events"] == 4
    assert status["tiers"]["operation_events"] == 1
    assert status["tiers"]["route_metrics"] == 0
    with recorded.connect() as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
    assert main(["status", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["tiers"]["route_events"] == 0
    assert status["tiers"]["route_metrics"] == 2
    # The hour under way reaches the rollups at the first fold after it ends.
    assert status["tiers"]["route_metrics_rollup"] == 0
    with recorded.connect() as conn:
        conn.execute("SELECT pgmetrics._fold_events(true, now() + interval '1 hour')")
    assert main(["status", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    # Two keys, each in its UTC day, ISO week and month.
    assert status["tiers"]["route_metrics_rollup"] == 6


def test_report_table_sorted_by_traffic(
    recorded: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--since", "2h", "--bucket", "all"]) == 0
    out = capsys.readouterr().out
    users = out.index("/users/{id}")
    assert users < out.index("/orders")
    assert "33.3%" in out
    assert "send_email" in out


def test_report_json_and_csv(recorded: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--bucket", "all", "--format", "json", "--method", "get"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [(r["route"], r["total_requests"], r["failed"]) for r in body["routes"]] == [
        ("/users/{id}", 3, 1)
    ]
    assert body["operations"] == []
    assert main(["report", "--bucket", "day", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted((r["kind"], r["route"] or r["operation"]) for r in rows) == [
        ("operation", "send_email"),
        ("route", "/orders"),
        ("route", "/users/{id}"),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--tz", "Nowhere/Special"], "tz must be an IANA time zone name"),
        (["report", "--method", "FETCH"], "method must be one of"),
    ],
)
def test_errors_are_one_line(
    env_db: Database, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("pgmetrics: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_retention_schedule_prints_the_whole_hint(
    env_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retention", "schedule"]) == 1
    err = capsys.readouterr().err
    first, hint = err.splitlines()
    assert first == "pgmetrics: error: pg_cron is not installed in this database"
    assert hint.startswith("hint: ")
    assert "CREATE EXTENSION pg_cron;" in hint
    assert hint.endswith("have any scheduler run SELECT pgmetrics.run_retention() once a day.")


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"dbname": "no_such_database"}, 'database "no_such_database" does not exist'),
        ({"user": "no_such_role"}, 'role "no_such_role" does not exist'),
        ({"port": "1"}, "Connection refused"),
    ],
)
def test_report_on_a_wrong_database_says_why_at_once(
    env_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    cause: str,
) -> None:
    params = dict(item.split("=", 1) for item in env_db.dsn.split())
    dsn = " ".join(f"{key}={value}" for key, value in {**params, **change}.items())
    monkeypatch.setenv("OBSERVABILITY_METRICS_DATABASE_URL", dsn)
    started = time.monotonic()
    assert main(["report"]) == 1
    assert time.monotonic() - started < 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("pgmetrics: error: connection failed: ")
    assert cause in err


def test_report_into_a_closed_pipe_exits_quietly(recorded: Database) -> None:
    with recorded.connect() as conn:
        # Well over a pipe's buffer of CSV.
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/r/' || i, 'GET', true, i) "
            "FROM generate_series(1, 3000) AS i"
        )
    with subprocess.Popen(
        [sys.executable, "-m", "pgmetrics.cli", "report", "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert proc.stdout.readline().startswith(b"kind,")
        proc.stdout.close()  # as `| head -1` does
        err = proc.stderr.read().decode()
        proc.wait(timeout=30)
    assert err == ""


def test_report_since_counts_the_hours_it_overlaps(
    env_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # 40 minutes before --end, in the hour before the one --end falls in.
    with env_db.connect() as conn:
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/late', 'GET', true, 1, '2026-05-01 09:50Z')"
        )
    argv = ["report", "--since", "1h", "--end", "2026-05-01T10:30:00Z", "--format", "json"]
    assert main(argv) == 0
    routes = json.loads(capsys.readouterr().out)["routes"]
    assert [(r["route"], r["total_requests"]) for r in routes] == [("/late", 1)]
    assert main([*argv[:-2], "--bucket", "hour"]) == 0
    assert "2026-05-01 09:00 to 2026-05-01 10:30 UTC" in capsys.readouterr().out


def test_status_as_a_reader_needs_neither_sqitch_nor_its_registry(
    env_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    role = f"cli_reader_{env_db.name}"
    with env_db.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN IN ROLE pgmetrics_reader").format(sql.Identifier(role))
        )
        conn.execute("SELECT pgmetrics.record_route_metric('/a', 'GET', true, 1)")
    try:
        monkeypatch.setenv("OBSERVABILITY_METRICS_DATABASE_URL", f"{env_db.dsn} user={role}")
        monkeypatch.setenv("PATH", "/nonexistent")  # no sqitch either
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("plan state unknown: this role may not read sqitch's registry")
        assert "route_events                         1" in out
        # Nothing folded yet: no hourly detail, said as such.
        assert "hourly detail: none yet" in out
        assert "None" not in out
    finally:
        with env_db.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_status_lists_both_pg_cron_jobs(
    cron_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OBSERVABILITY_METRICS_DATABASE_URL", cron_db.dsn)
    with cron_db.connect() as conn:
        fold = conn.execute("SELECT pgmetrics.schedule_fold('*/2 * * * *')").fetchone()
        retention = conn.execute("SELECT pgmetrics.schedule_retention()").fetchone()
    try:
        assert main(["status"]) == 0
        out = capsys.readouterr().out
    finally:
        with cron_db.connect() as conn:
            conn.execute("SELECT pgmetrics.unschedule_fold(), pgmetrics.unschedule_retention()")
    assert fold is not None
    assert retention is not None
    assert f"  fold: job {fold[0]} at '*/2 * * * *'" in out
    assert f"  retention: job {retention[0]} at '17 3 * * *'" in out


def test_help_names_the_database_variables_and_each_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "OBSERVABILITY_METRICS_DATABASE_URL, else DATABASE_URL" in out
    for command in ("deploy", "status", "report", "retention", "serve", "demo", "sql"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        help_text = capsys.readouterr().out
        body = help_text.split("\n\n")[1]
        assert not body.startswith(("positional", "options")), (command, help_text)


def test_unreachable_database_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OBSERVABILITY_METRICS_DATABASE_URL", f"host=127.0.0.1 port={port} user=x")
    assert main(["status"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_retention_run_expires_old_hours_and_unschedule_needs_pg_cron(
    recorded: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retention", "run", "--now", "2030-01-01T00:00:00Z"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["route_hours_expired"] == 2
    assert main(["retention", "unschedule"]) == 1


@pytest.fixture
def served(recorded: Database) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "OBSERVABILITY_METRICS_ADMIN_TOKEN": ADMIN_TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgmetrics.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert ADMIN_TOKEN not in err.decode()


def test_serve_answers_with_database_data(served: str) -> None:
    response = httpx.get(
        served + "/api/admin/metrics",
        params={"bucket": "all"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "database"
    totals = {row["route"]: row["total_requests"] for row in body["routes"]}
    assert totals == {"/users/{id}": 3, "/orders": 1}
    assert httpx.get(served + "/api/admin/metrics").status_code == 401
    spec = httpx.get(served + "/openapi.json").json()
    assert "/api/admin/metrics" in spec["paths"]


@pytest.mark.slow
def test_demo_runs_end_to_end() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "pgmetrics"), "demo", "--requests", "150"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "450 stored: nothing lost, nothing counted twice" in proc.stdout
    assert "the throwaway cluster is removed" in proc.stdout
