"""Every request counted, exactly, on the servers applications are deployed with: uvicorn with
workers, gunicorn (sync workers with --preload, and UvicornWorker) and hypercorn, each stopped by
SIGTERM to its master at the default batch interval; and, with the database down during that
shutdown, delivered from the spool by the next start."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import Database
from tests.real_servers import free_port, hammer, serve, server_env, summary, write_files
from tests.stored import operation_totals

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
    # At the default interval of 5 s the workers still hold the requests of the last seconds
    # when SIGTERM arrives: those reach the database through the shutdown hooks alone.
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


DJANGO_URLS = """
    from django.contrib import admin
    from django.http import HttpResponse, JsonResponse
    from django.urls import include, path, re_path


    def legacy(request, code):
        return HttpResponse(code)


    def orders(request):
        return JsonResponse({"created": True}, status=201)


    def private(request):
        return HttpResponse("secret")


    urlpatterns = [
        path("admin/", admin.site.urls),
        path("shop/", include("shop_urls")),
        re_path(r"^legacy/(?P<code>[0-9]{4})/$", legacy),
        path("api/orders/", orders),
        path("private/data/", private),
    ]
"""

DJANGO_SHOP_URLS = """
    from django.http import HttpResponse
    from django.urls import path


    def item(request, item_id):
        return HttpResponse(str(item_id))


    def boom(request):
        raise RuntimeError("the view failed")


    urlpatterns = [path("items/<int:item_id>/", item), path("boom/", boom)]
"""

DJANGO_AUTH = """
    from django.http import HttpResponse


    class RequireToken:
        # Answers before URL resolution, as authentication middleware often does.
        def __init__(self, get_response):
            self.get_response = get_response

        def __call__(self, request):
            if request.path.startswith("/private/") and "HTTP_X_TOKEN" not in request.META:
                return HttpResponse("token required", status=401)
            return self.get_response(request)
"""

DJANGO_REQUESTS = (
    [("GET", f"/shop/items/{i}/") for i in range(20)]
    + [("GET", "/legacy/1234/"), ("GET", "/legacy/2024/")] * 5
    + [("POST", "/api/orders/")] * 10  # no CSRF token: CsrfViewMiddleware answers 403
    + [("GET", "/private/data/")] * 10  # no token: RequireToken answers 401
    + [("GET", "/admin/")] * 5  # not logged in: redirected to the login page
    + [("GET", "/admin/login/")] * 5
    + [("GET", "/admin/auth/")] * 5  # the admin's app index, a re_path
    + [("GET", "/shop/boom/")] * 5
    + [("GET", "/nowhere/")] * 5
)

DJANGO_EXPECTED = {
    ("/shop/items/{item_id}/", "GET"): (20, 0),
    ("/legacy/{code}/", "GET"): (10, 0),
    ("/api/orders/", "POST"): (10, 0),
    ("/private/data/", "GET"): (10, 0),
    ("/admin/", "GET"): (5, 0),
    ("/admin/login/", "GET"): (5, 0),
    ("/admin/{app_label}/", "GET"): (5, 0),
    ("/shop/boom/", "GET"): (5, 5),
    ("__unmatched__", "GET"): (5, 0),
}


def _django_project(directory: Path, position: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(directory)],
        check=True,
        capture_output=True,
    )
    write_files(
        directory,
        {
            "mysite/urls.py": DJANGO_URLS,
            "shop_urls.py": DJANGO_SHOP_URLS,
            "auth_mw.py": DJANGO_AUTH,
        },
    )
    settings = directory / "mysite" / "settings.py"
    source = settings.read_text(encoding="utf-8")
    source = source.replace("DEBUG = True", "DEBUG = False")
    source = source.replace("ALLOWED_HOSTS = []", 'ALLOWED_HOSTS = ["127.0.0.1"]')
    source += (
        "\nMIDDLEWARE.insert(MIDDLEWARE.index("
        '"django.contrib.auth.middleware.AuthenticationMiddleware") + 1, "auth_mw.RequireToken")\n'
    )
    ours = '"pgmetrics.web.django.RouteTemplateMiddleware"'
    source += (
        f"MIDDLEWARE.insert(0, {ours})\n" if position == "first" else f"MIDDLEWARE.append({ours})\n"
    )
    settings.write_text(source, encoding="utf-8")
    wsgi = directory / "mysite" / "wsgi.py"
    wsgi.write_text(
        wsgi.read_text(encoding="utf-8").replace(
            "application = get_wsgi_application()",
            "from pgmetrics.web import WSGIMetricsMiddleware\n\n"
            "application = WSGIMetricsMiddleware(get_wsgi_application())",
        ),
        encoding="utf-8",
    )


@pytest.mark.slow
@pytest.mark.parametrize("position", ["first", "last"])
def test_django_on_gunicorn_counts_every_request_under_its_template(
    position: str, db: Database, tmp_path: Path
) -> None:
    _django_project(tmp_path, position)
    port = free_port()
    command = [
        "gunicorn",
        "--no-control-socket",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "mysite.wsgi",
    ]
    with serve(command, tmp_path, server_env(db.dsn, None), port) as server:
        statuses = hammer(server.url, DJANGO_REQUESTS, follow_redirects=False)
        assert statuses == {200: 35, 302: 10, 401: 10, 403: 10, 404: 5, 500: 5}, server.output()
        server.terminate()
    assert summary(db.dsn) == DJANGO_EXPECTED, server.output()


def _django_asgi(directory: Path) -> None:
    asgi = directory / "mysite" / "asgi.py"
    asgi.write_text(
        asgi.read_text(encoding="utf-8").replace(
            "application = get_asgi_application()",
            "from pgmetrics.web import MetricsMiddleware\n\n"
            "application = MetricsMiddleware(get_asgi_application())",
        ),
        encoding="utf-8",
    )


@pytest.mark.slow
@pytest.mark.parametrize("position", ["first", "last"])
def test_django_on_uvicorn_counts_every_request_under_its_template(
    position: str, db: Database, tmp_path: Path
) -> None:
    _django_project(tmp_path, position)
    _django_asgi(tmp_path)
    port = free_port()
    command = ["uvicorn", "--port", str(port), "--log-level", "warning", "mysite.asgi:application"]
    env = server_env(db.dsn, None, OBSERVABILITY_METRICS_BATCH_INTERVAL="100")
    with serve(command, tmp_path, env, port) as server:
        statuses = hammer(server.url, DJANGO_REQUESTS, follow_redirects=False)
        assert statuses == {200: 35, 302: 10, 401: 10, 403: 10, 404: 5, 500: 5}, server.output()
        # Read once flushed, before the server stops, so that only the templates are under test
        # here (delivery at shutdown is the next test's).
        deadline = time.monotonic() + 30
        while summary(db.dsn) != DJANGO_EXPECTED and time.monotonic() < deadline:
            time.sleep(0.2)
        server.terminate()
    assert summary(db.dsn) == DJANGO_EXPECTED, server.output()


@pytest.mark.slow
def test_django_on_uvicorn_delivers_everything_at_sigterm(db: Database, tmp_path: Path) -> None:
    # Django has no ASGI lifespan; the middleware answers it, so that the storage delivers at
    # shutdown before uvicorn raises SIGTERM again.
    _django_project(tmp_path, "first")
    _django_asgi(tmp_path)
    port = free_port()
    command = ["uvicorn", "--port", str(port), "--log-level", "warning", "mysite.asgi:application"]
    with serve(command, tmp_path, server_env(db.dsn, None), port) as server:
        hammer(server.url, DJANGO_REQUESTS, follow_redirects=False)
        assert server.terminate() == -signal.SIGTERM
    assert summary(db.dsn) == DJANGO_EXPECTED, server.output()


REARMED_APP = """
    import sys

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    import pgmetrics
    from pgmetrics.web import MetricsMiddleware


    async def item(request):
        return PlainTextResponse("ok")


    app = MetricsMiddleware(Starlette(routes=[Route("/items/{item_id}", item)]))
    # Recording in the main thread before the server starts puts pgmetrics' handler in front of
    # the default action; uvicorn restores it after its graceful shutdown and raises SIGTERM again.
    pgmetrics.record_operation_metric("boot", True, 0.0)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), lifespan="off", log_level="warning")
"""


@pytest.mark.slow
def test_sigterm_raised_again_by_uvicorn_delivers_without_lifespan(
    db: Database, tmp_path: Path
) -> None:
    write_files(tmp_path, {"rearmed_app.py": REARMED_APP})
    port = free_port()
    with serve(["rearmed_app", str(port)], tmp_path, server_env(db.dsn, None), port) as server:
        assert hammer(server.url, [("GET", f"/items/{i}") for i in range(200)]) == {200: 200}
        # The server's behaviour is kept: it ends by the signal, as without pgmetrics.
        assert server.terminate() == -signal.SIGTERM
    assert summary(db.dsn) == {("/items/{item_id}", "GET"): (200, 0)}, server.output()
    assert operation_totals(db.dsn) == {"boot": (1, 0, 0.0)}
