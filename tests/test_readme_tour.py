"""The README's five-minute tour, run as written on a cluster of its own: its shell commands, its
SQL in psql under the role each block names, and its Python, so that the tour cannot drift from
what the software does. Only what needs a machine of its own is left out (pip install, the
interactive psql, the server processes of section 3, which tests/test_web_servers.py runs)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devtools.localcluster import LocalCluster

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Block:
    language: str
    text: str


def tour_sections() -> dict[str, list[Block]]:
    """The code blocks of each numbered section of the tour, by the section's number."""
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## A five-minute tour") : text.index("## How it works")]
    sections: dict[str, list[Block]] = {}
    for part in re.split(r"^### ", tour, flags=re.MULTILINE)[1:]:
        number = part.split(".", 1)[0]
        sections[number] = [
            Block(language, body)
            for language, body in re.findall(r"^```(\w+)\n(.*?)^```$", part, re.S | re.M)
        ]
    return sections


def commands(block: Block) -> list[str]:
    """A shell block's command lines, without comments."""
    lines = [line.split("  #", 1)[0].strip() for line in block.text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def app_cluster() -> Iterator[LocalCluster]:
    # pg_cron can be created in one database of a cluster only: the tour's, app.
    with LocalCluster(durable=False, cron_database="app") as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("CREATE ROLE admin LOGIN CREATEROLE")
            conn.execute(sql.SQL("CREATE DATABASE app OWNER admin"))
        yield cluster


def test_the_tour_runs_as_written(app_cluster: LocalCluster, tmp_path: Path) -> None:
    sections = tour_sections()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env = {k: v for k, v in env.items() if not k.startswith("OBSERVABILITY_METRICS_")}
    # The tour's URLs name localhost and no port: libpq takes the port from PGPORT.
    env["PGPORT"] = str(app_cluster.port)

    def shell(line: str) -> str:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            if name == "OBSERVABILITY_METRICS_SPOOL_DIR":
                value = str(tmp_path / "spool")
            env[name] = value
            return ""
        argv = shlex.split(line)
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def psql(text: str, user: str) -> str:
        psql = str(app_cluster.bindir / "psql")
        argv = [psql, "-X", "-v", "ON_ERROR_STOP=1", "-h", "localhost", "-U", user, "app"]
        proc = subprocess.run(
            argv, input=text, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"{text}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def python(code: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert proc.returncode == 0, f"{code}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    # 1. Deploy, record and read from psql.
    first, *sql_blocks = sections["1"]
    for line in commands(first):
        if not line.startswith("psql"):  # the interactive session the SQL below is typed into
            shell(line)
    for block in sql_blocks:
        superuser = block.text.startswith("-- as a superuser")
        out = psql(block.text, "postgres" if superuser else "admin")
        if "schedule_fold()" in block.text:
            assert out.count("(1 row)") == 2
    with psycopg.connect(app_cluster.dsn("app"), autocommit=True) as conn:
        jobs = conn.execute("SELECT jobname, username FROM cron.job ORDER BY 1").fetchall()
    assert jobs == [("pgmetrics_fold", "admin"), ("pgmetrics_retention", "admin")]

    # 2. The Python client, as web_app.
    exports, client = sections["2"]
    for line in commands(exports):
        if not line.startswith("pip "):
            shell(line)
    lines = python(client.text).splitlines()
    assert lines[-1] == "database", lines
    assert " 3 " in lines[0], lines  # two calls from psql and one from the client, one day

    # 3. and 4. The FastAPI application with the admin endpoint mounted, as web_app.
    fastapi_app = sections["3"][0].text
    reports, admin, grafana = sections["4"]
    env["OBSERVABILITY_METRICS_ADMIN_TOKEN"] = "tour-token"  # noqa: S105
    out = python(
        fastapi_app
        + admin.text
        + "from starlette.testclient import TestClient\n"
        + "with TestClient(app) as client:\n"
        + "    client.get('/users/42')\n"
        + "    answer = client.get('/api/admin/metrics', params={'bucket': 'all'},\n"
        + "                        headers={'Authorization': 'Bearer tour-token'})\n"
        + "    print(answer.status_code, answer.json()['source'])\n"
    )
    assert out.splitlines()[-1] == "200 database"

    report, status = (shell(line) for line in commands(reports))
    assert "/users/{id}" in report
    assert "send_email" in report
    assert "fold: job" in status
    assert "retention: job" in status

    # The Grafana query, with the macro Grafana expands, as grafana.
    query = grafana.text.replace(
        "$__timeFilter(bucket_start)", "bucket_start > now() - interval '1 day'"
    )
    # The views read what was folded: the pg_cron job scheduled above folds within a minute.
    deadline = time.monotonic() + 120
    while "/users/{id} GET" not in (out := psql(query, "grafana")):
        assert time.monotonic() < deadline, out
        time.sleep(2)
