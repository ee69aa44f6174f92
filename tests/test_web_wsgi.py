"""WSGIMetricsMiddleware on a real threaded WSGI server, with Flask and with Django."""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask, Response, stream_with_context

from pgmetrics import MemoryMetricsStorage
from pgmetrics.web import UNMATCHED, WSGIMetricsMiddleware
from tests.servers import wsgi_server
from tests.test_web_asgi import routes_of

STREAM_CHUNKS = 4
STREAM_PAUSE = 0.05


def flask_app(storage: MemoryMetricsStorage) -> Flask:
    app = Flask(__name__)

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> str:
        return f"user {user_id}"

    @app.post("/orders")
    def create_order() -> tuple[str, int]:
        return "created", 201

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("handler failed")

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            for index in range(STREAM_CHUNKS):
                time.sleep(STREAM_PAUSE)
                yield f"chunk {index}\n"

        return Response(stream_with_context(chunks()))

    app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app, storage=storage)  # type: ignore[method-assign]
    return app


@pytest.fixture
def storage() -> MemoryMetricsStorage:
    return MemoryMetricsStorage()


def test_flask_counts_route_templates(storage: MemoryMetricsStorage) -> None:
    with wsgi_server(flask_app(storage)) as url, httpx.Client(base_url=url) as client:
        for user_id in range(12):
            assert client.get(f"/users/{user_id}").status_code == 200
        assert client.post("/orders").status_code == 201
        assert client.get("/boom").status_code == 500
        for index in range(50):
            assert client.get(f"/nothing/{index}").status_code == 404
    rows = routes_of(storage)
    assert rows["/users/{user_id}", "GET"].total_requests == 12
    assert rows["/orders", "POST"].successful == 1
    assert (rows["/boom", "GET"].successful, rows["/boom", "GET"].failed) == (0, 1)
    assert rows[UNMATCHED, "GET"].total_requests == 50
    assert len(rows) == 4


def test_flask_streaming_is_measured_to_its_end(storage: MemoryMetricsStorage) -> None:
    with wsgi_server(flask_app(storage)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/stream").text.count("chunk") == STREAM_CHUNKS
    row = routes_of(storage)["/stream", "GET"]
    assert row.min_duration_ms >= STREAM_CHUNKS * STREAM_PAUSE * 1000 * 0.9


def _django_application(storage: MemoryMetricsStorage) -> Any:
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpRequest, HttpResponse
    from django.urls import clear_url_caches, path

    def article(_request: HttpRequest, year: int, slug: str) -> HttpResponse:
        return HttpResponse(f"{year} {slug}")

    urls = types.ModuleType("pgmetrics_test_django_urls")
    urls.urlpatterns = [path("articles/<int:year>/<slug:slug>/", article)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    if not settings.configured:
        settings.configure(DEBUG=False, SECRET_KEY="test-only")  # noqa: S106 - throwaway settings
        django.setup()
    # Settings are per process: another test module may have configured them first.
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.ROOT_URLCONF = urls.__name__
    settings.MIDDLEWARE = ["pgmetrics.web.django.RouteTemplateMiddleware"]
    clear_url_caches()
    return WSGIMetricsMiddleware(WSGIHandler(), storage=storage)


def test_django_counts_resolver_route(storage: MemoryMetricsStorage) -> None:
    with wsgi_server(_django_application(storage)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/articles/2026/hello/").status_code == 200
        assert client.get("/articles/2025/other/").status_code == 200
        assert client.get("/nowhere/").status_code == 404
    rows = routes_of(storage)
    assert rows["/articles/{year}/{slug}/", "GET"].total_requests == 2
    assert rows[UNMATCHED, "GET"].total_requests == 1
