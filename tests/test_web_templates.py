"""Route templates in real applications: Flask wrapped by other WSGI middleware in either order
and with hooks that answer first; Starlette and FastAPI mounts and nested routers matched as
Starlette's router matches them; Django's regular-expression routes as clean templates."""

from __future__ import annotations

import logging
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from pgmetrics import MemoryMetricsStorage
from pgmetrics.checks import MAX_NAME_LENGTH
from pgmetrics.web import UNMATCHED, MetricsAdminApp, MetricsMiddleware, WSGIMetricsMiddleware
from pgmetrics.web.templates import normalise, regex_template
from tests.servers import asgi_server, wsgi_server
from tests.test_web_asgi import routes_of
from tests.test_web_wsgi import _django_application


def _counts(storage: MemoryMetricsStorage) -> dict[tuple[str, str], tuple[int, int]]:
    return {key: (row.total_requests, row.failed) for key, row in routes_of(storage).items()}


def _flask(storage: MemoryMetricsStorage, order: str) -> Flask:
    app = Flask(__name__)

    @app.before_request
    def require_token() -> tuple[str, int] | None:
        # Registered before the middleware, and answers first: no view runs.
        if request.path.startswith("/private/") and "X-Token" not in request.headers:
            return "token required", 401
        return None

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> str:
        return f"user {user_id} from {request.remote_addr}"

    @app.get("/private/<name>")
    def private(name: str) -> str:
        return name

    if order == "ProxyFix inside":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
        app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app, storage=storage)  # type: ignore[method-assign]
    elif order == "ProxyFix outside":
        app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app, storage=storage)  # type: ignore[method-assign]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    else:
        # The Flask object itself wrapped, as a WSGI server would be given it.
        return WSGIMetricsMiddleware(app, storage=storage)  # type: ignore[return-value]
    return app


@pytest.mark.parametrize("order", ["ProxyFix inside", "ProxyFix outside", "app object"])
def test_flask_templates_whatever_wraps_the_app(order: str) -> None:
    storage = MemoryMetricsStorage()
    with wsgi_server(_flask(storage, order)) as url, httpx.Client(base_url=url) as client:
        for user_id in range(6):
            response = client.get(f"/users/{user_id}", headers={"X-Forwarded-For": "203.0.113.7"})
            assert response.status_code == 200
        if order != "app object":
            assert response.text.endswith("203.0.113.7")  # ProxyFix is in the chain
        for name in ("a", "b", "c"):
            assert client.get(f"/private/{name}").status_code == 401
        assert client.get("/private/d", headers={"X-Token": "t"}).status_code == 200
        assert client.get("/nowhere").status_code == 404
    assert _counts(storage) == {
        ("/users/{user_id}", "GET"): (6, 0),
        ("/private/{name}", "GET"): (4, 0),
        (UNMATCHED, "GET"): (1, 0),
    }


async def _text(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.url.path)


def _starlette(storage: MemoryMetricsStorage) -> Starlette:
    # Inside the mount, POST /api/items/special first matches /items/{name} partially (GET
    # only): Starlette goes on and serves the later full match.
    api = [
        Route("/items/{name}", _text, methods=["GET"]),
        Route("/items/special", _text, methods=["POST"]),
        Mount("/v{version:int}", routes=[Route("/things/{thing_id}", _text)]),
    ]
    fastapi = FastAPI()
    router = APIRouter(prefix="/orders")
    inner = APIRouter(prefix="/{order_id}/lines")

    @inner.get("/{line_id}")
    def line(order_id: int, line_id: int) -> dict[str, int]:
        return {"order": order_id, "line": line_id}

    router.include_router(inner)
    fastapi.include_router(router)
    app = Starlette(
        routes=[
            Route("/ping", _text),
            Mount("/api", routes=api),
            Mount("/shop", app=fastapi),
        ]
    )
    app.add_middleware(MetricsMiddleware, storage=storage)
    return app


def test_starlette_mounts_and_nested_routers_are_matched_as_starlette_matches_them() -> None:
    storage = MemoryMetricsStorage()
    with asgi_server(_starlette(storage)) as url, httpx.Client(base_url=url) as client:
        assert client.post("/api/items/special").status_code == 200
        assert client.post("/api/items/special").status_code == 200
        assert client.get("/api/items/special").status_code == 200
        assert client.get("/api/items/other").status_code == 200
        assert client.put("/api/items/other").status_code == 405  # partial match only
        assert client.get("/api/v2/things/9").status_code == 200
        assert client.get("/shop/orders/7/lines/3").status_code == 200
        assert client.get("/shop/orders/8/lines/4").status_code == 200
        assert client.get("/ping").status_code == 200
        assert client.get("/api/nothing").status_code == 404
    assert _counts(storage) == {
        ("/api/items/special", "POST"): (2, 0),
        ("/api/items/{name}", "GET"): (2, 0),
        ("/api/items/{name}", "PUT"): (1, 0),
        ("/api/v{version}/things/{thing_id}", "GET"): (1, 0),
        ("/shop/orders/{order_id}/lines/{line_id}", "GET"): (2, 0),
        ("/ping", "GET"): (1, 0),
        (UNMATCHED, "GET"): (1, 0),
    }


@pytest.mark.parametrize(
    ("route", "template"),
    [
        (r"^legacy/(?P<code>[0-9]{4})/$", "/legacy/{code}/"),
        (r"admin/(?P<app_label>auth|sites)/$", "/admin/{app_label}/"),
        (r"^files/(?:(?P<name>[^/(]+)/)?$", "/files/{name}/"),
        (r"^(\d+)/(?P<kind>(a|b))/\Z", "/{var}/{kind}/"),
        (r"^robots\.txt$", "/robots.txt"),
        ("shop/items/<int:item_id>/", "/shop/items/{item_id}/"),
        ("robots.txt", "/robots.txt"),
    ],
)
def test_django_regular_expression_routes_become_templates(route: str, template: str) -> None:
    assert normalise(regex_template(route)) == template


def test_django_resolver_match_of_re_path_and_include() -> None:
    _django_application(MemoryMetricsStorage())  # the settings the Django tests share
    from django.urls import include, path, re_path, resolve

    from pgmetrics.web.django import route_template

    def view(*_args: Any, **_kwargs: Any) -> None:
        return None

    urlconf = types.ModuleType("pgmetrics_test_urls")
    urlconf.urlpatterns = [  # type: ignore[attr-defined]
        re_path(r"^legacy/(?P<code>[0-9]{4})/$", view),
        path("shop/", include([path("items/<int:item_id>/", view)])),
    ]
    assert normalise(route_template(resolve("/legacy/1234/", urlconf)) or "") == "/legacy/{code}/"
    assert (
        normalise(route_template(resolve("/shop/items/3/", urlconf)) or "")
        == "/shop/items/{item_id}/"
    )


def _fastapi_with_mounts(storage: MemoryMetricsStorage, static: Path) -> FastAPI:
    from prometheus_client import CollectorRegistry, make_asgi_app
    from starlette.staticfiles import StaticFiles

    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app.mount("/static", StaticFiles(directory=static), name="static")
    app.mount("/metrics", make_asgi_app(registry=CollectorRegistry()))
    # The README's admin recipe: a plain Starlette Route appended to FastAPI's router.
    admin = MetricsAdminApp(storage, token="t")  # noqa: S106 - a test token
    app.router.routes.append(Route("/api/admin/metrics", admin))
    app.router.routes.append(Route("/plain/{name}", _text))
    app.router.routes.append(Mount("/sub", routes=[Route("/leaf/{leaf_id}", _text)]))
    app.add_middleware(MetricsMiddleware, storage=storage)
    return app


def test_fastapi_mounted_apps_and_appended_routes_count_under_their_templates(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.css").write_text("a")
    (tmp_path / "b.js").write_text("b")
    storage = MemoryMetricsStorage()
    app = _fastapi_with_mounts(storage, tmp_path)
    with asgi_server(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/items/3").status_code == 200
        assert client.get("/static/a.css").status_code == 200
        assert client.get("/static/b.js").status_code == 200
        assert client.get("/static/missing.png").status_code == 404
        assert client.get("/metrics/").status_code == 200
        assert client.get("/api/admin/metrics").status_code == 401
        assert client.get("/plain/alice").status_code == 200
        assert client.get("/plain/bob").status_code == 200
        assert client.get("/sub/leaf/1").status_code == 200
        assert client.get("/sub/nothing").status_code == 404
        assert client.get("/nothing").status_code == 404
    assert _counts(storage) == {
        ("/items/{item_id}", "GET"): (1, 0),
        ("/static", "GET"): (3, 0),  # the mount's path: never one key per file
        ("/metrics", "GET"): (1, 0),
        ("/api/admin/metrics", "GET"): (1, 0),
        ("/plain/{name}", "GET"): (2, 0),
        ("/sub/leaf/{leaf_id}", "GET"): (1, 0),
        (UNMATCHED, "GET"): (2, 0),
    }


def test_methods_outside_the_standard_ones_count_under_one_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = MemoryMetricsStorage()
    app = Starlette(routes=[Route("/dav/{name}", _text, methods=["GET", "PROPFIND", "MKCOL"])])
    app.add_middleware(MetricsMiddleware, storage=storage)
    with (
        caplog.at_level(logging.WARNING, logger="pgmetrics.web"),
        asgi_server(app) as url,
        httpx.Client(base_url=url) as client,
    ):
        assert client.request("PROPFIND", "/dav/a").status_code == 200
        assert client.request("MKCOL", "/dav/b").status_code == 200
        for index in range(50):
            assert client.request(f"SCAN{index}", "/dav/c").status_code == 405
        assert client.get("/dav/d").status_code == 200
    assert _counts(storage) == {("/dav/{name}", "_OTHER"): (52, 0), ("/dav/{name}", "GET"): (1, 0)}
    assert "not recorded" not in caplog.text


def test_a_request_that_cannot_be_recorded_warns_at_most_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = MemoryMetricsStorage()
    app = Flask(__name__)
    app.get("/<path:anything>")(lambda anything: "ok")
    app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app, storage=storage)  # type: ignore[method-assign]
    long = "x" * (MAX_NAME_LENGTH + 1)
    app.url_map.add(Rule(f"/{long}", endpoint="long"))
    app.view_functions["long"] = lambda: "long"
    with (
        caplog.at_level(logging.WARNING, logger="pgmetrics.web"),
        wsgi_server(app) as url,
        httpx.Client(base_url=url) as client,
    ):
        for _ in range(200):
            assert client.get(f"/{long}").status_code == 200
    middleware = app.wsgi_app
    assert isinstance(middleware, WSGIMetricsMiddleware)
    assert middleware.recorder.rejected == 200
    warnings = [r for r in caplog.records if "request not recorded" in r.getMessage()]
    assert len(warnings) == 1
    assert "1 not recorded since the last warning, 1 in all" in warnings[0].getMessage()
