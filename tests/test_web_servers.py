"""Every request counted, exactly, on the servers applications are deployed with: uvicorn with
workers, gunicorn (sync workers with --preload, and UvicornWorker) and hypercorn, each stopped by
SIGTERM to its master at the default batch interval; and, with the database down during that
shutdown, delivered from the spool by the next start."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from tests.conftest import Database
from tests.real_servers import free_port, hammer, serve, server_env, summary, write_files

ASGI_APP = """
    from fastapi import FastAPI, HTTPException
    from pgmetrics.web import MetricsMiddleware

    app = FastAPI()
    app.add_middleware(MetricsMiddleware)


    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}


    @app.get("/fail")
    def fail() -> None:
        raise HTTPException(503)
"""

WSGI_APP = """
    from flask import Flask, abort
    from werkzeug.middleware.proxy_fix import ProxyFix
    from pgmetrics.web import WSGIMetricsMiddleware

    app = Flask(__name__)


    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}


    @app.get("/fail")
    def fail() -> None:
        abort(503)


    # The order of the README: other WSGI middleware first, pgmetrics outermost.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
    app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app)
"""

REQUESTS = 600
FAILING = 100


def _requests(count: int = REQUESTS, failing: int = FAILING) -> list[tuple[str, str]]:
    paths = [("GET", f"/items/{i % 50}") for i in range(count - failing)]
    paths += [("GET", "/fail")] * failing
    return paths


def _expected(
    count: int = REQUESTS, failing: int = FAILING
) -> dict[tuple[str, str], tuple[int, int]]:
    return {("/items/{item_id}", "GET"): (count - failing, 0), ("/fail", "GET"): (failing, failing)}


def _command(kind: str, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    if kind == "uvicorn --workers 3":
        return [
            "uvicorn",
            "asgi_app:app",
            "--workers",
            "3",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    if kind == "gunicorn -k UvicornWorker -w 3":
        return [
            "gunicorn",
            "--no-control-socket",
            "-k",
            "uvicorn.workers.UvicornWorker",
            "-w",
            "3",
            "-b",
            bind,
            "asgi_app:app",
        ]
    if kind == "hypercorn -w 2":
        return ["hypercorn", "-w", "2", "-b", bind, "asgi_app:app"]
    if kind == "gunicorn -w 4 --preload":
        return [
            "gunicorn",
            "--no-control-socket",
            "-w",
            "4",
            "--preload",
            "-b",
            bind,
            "wsgi_app:app",
        ]
    raise AssertionError(kind)


SERVERS = [
    "uvicorn --workers 3",
    "gunicorn -k UvicornWorker -w 3",
    "hypercorn -w 2",
    "gunicorn -w 4 --preload",
]


@pytest.mark.slow
@pytest.mark.parametrize("kind", SERVERS)
def test_sigterm_to_the_master_delivers_every_request(
    kind: str, db: Database, tmp_path: Path
) -> None:
    write_files(tmp_path, {"asgi_app.py": ASGI_APP, "wsgi_app.py": WSGI_APP})
    port = free_port()
    with serve(_command(kind, port), tmp_path, server_env(db.dsn, None), port) as server:
        statuses = hammer(server.url, _requests())
        assert statuses == {200: REQUESTS - FAILING, 503: FAILING}
        server.terminate()
    # Nothing stored before the shutdown: the default interval of 5 s has not passed, so every
    # count below was delivered by a shutdown hook.
    assert summary(db.dsn) == _expected(), server.output()


def _spooled(spool: Path) -> set[str]:
    return {path.stem for path in spool.glob("*.json")}


def _batch_ids(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {
            str(row[0]) for row in conn.execute("SELECT batch_id FROM pgmetrics.ingested_batches")
        }


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["uvicorn --workers 3", "gunicorn -w 4 --preload"])
def test_what_the_database_misses_at_shutdown_is_spooled_and_delivered_once_by_the_next_start(
    kind: str, db: Database, tmp_path: Path
) -> None:
    write_files(tmp_path, {"asgi_app.py": ASGI_APP, "wsgi_app.py": WSGI_APP})
    spool = tmp_path / "spool"
    # An interval longer than the test: every request is still held when the database stops.
    env = server_env(
        db.dsn,
        spool,
        OBSERVABILITY_METRICS_SHUTDOWN_TIMEOUT="1",
        OBSERVABILITY_METRICS_BATCH_INTERVAL="600000",
    )
    port = free_port()
    with serve(_command(kind, port), tmp_path, env, port, "first") as first:
        assert hammer(first.url, _requests()) == {200: REQUESTS - FAILING, 503: FAILING}
        db.cluster.stop("fast")
        try:
            first.terminate()
        finally:
            db.cluster.start()
    spooled = _spooled(spool)
    assert spooled, first.output()
    # Never silent: each process that spooled says how many events it wrote, and where.
    written = [
        int(match)
        for match in re.findall(
            r"(\d+) events \(\d+ cells, \d+ batch\(es\)\) not delivered were written",
            first.output(),
        )
    ]
    assert sum(written) == REQUESTS, first.output()
    assert summary(db.dsn) == {}

    port = free_port()
    with serve(_command(kind, port), tmp_path, env, port, "second") as second:
        assert hammer(second.url, _requests(60, 10)) == {200: 50, 503: 10}
        second.terminate()
    assert summary(db.dsn) == _expected(REQUESTS + 60, FAILING + 10), second.output()
    # Under the ids the first process gave them, and the spool is empty again.
    assert spooled <= _batch_ids(db.dsn)
    assert _spooled(spool) == set()
