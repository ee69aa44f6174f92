"""The dashboard mounted in Starlette, Flask and Django answers as ``pgmetrics serve`` does:
the login form sets the cookie, which opens the page and its data; a wrong token is refused."""

from __future__ import annotations

import json
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.routing import Mount

from pgmetrics.web.dashboard.asgi_app import DashboardApp
from pgmetrics.web.dashboard.django_view import dashboard_urls, dashboard_view
from pgmetrics.web.dashboard.flask_blueprint import dashboard_blueprint
from tests.conftest import Database
from tests.servers import asgi_server, wsgi_server

TOKEN = "mount-" + uuid.uuid4().hex

Serve = Callable[[str], AbstractContextManager[str]]


def _starlette(dsn: str) -> AbstractContextManager[str]:
    return asgi_server(Starlette(routes=[Mount("/dashboard", DashboardApp(dsn, token=TOKEN))]))


def _flask(dsn: str) -> AbstractContextManager[str]:
    app = Flask(__name__)
    app.register_blueprint(dashboard_blueprint(dsn, token=TOKEN))
    return wsgi_server(app)


@pytest.fixture(params=[_starlette, _flask], ids=["starlette", "flask"])
def client(request: pytest.FixtureRequest, db: Database) -> Iterator[httpx.Client]:
    with db.connect() as conn:
        conn.execute("SELECT pgmetrics.record_route_metric('/a', 'GET', true, 5)")
    serve: Serve = request.param
    with serve(db.dsn) as url, httpx.Client(base_url=url, follow_redirects=False) as http:
        yield http


def test_the_login_opens_the_page_and_its_data(client: httpx.Client) -> None:
    assert client.get("/dashboard/").status_code == 401
    assert client.post("/dashboard/login", data={"token": "wrong"}).status_code == 401
    login = client.post("/dashboard/login", data={"token": TOKEN})
    assert login.status_code == 303
    assert "HttpOnly" in login.headers["set-cookie"]
    assert "SameSite=Strict" in login.headers["set-cookie"]
    cookie = login.headers["set-cookie"].split(";")[0]
    page = client.get("/dashboard/", headers={"cookie": cookie})
    assert page.status_code == 200
    assert 'src="/dashboard/static/dashboard.js"' in page.text
    assert client.get("/dashboard/static/dashboard.js").status_code == 200
    data = client.get("/dashboard/data", headers={"cookie": cookie})
    assert data.status_code == 200
    assert [k["name"] for k in data.json()["keys"]] == ["/a"]
    bearer = client.get("/dashboard/data", headers={"authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 200


def _django() -> Any:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEBUG=False, SECRET_KEY="test-only")  # noqa: S106 - throwaway settings
        django.setup()
    # Settings are per process: another test module may have configured them first.
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    from django.test import RequestFactory  # type: ignore[import-untyped]

    return RequestFactory()


def test_the_django_view(db: Database) -> None:
    factory = _django()
    from django.urls import resolve  # type: ignore[import-untyped]

    urls = types.ModuleType("pgmetrics_test_dashboard_urls")
    urls.urlpatterns = dashboard_urls(conninfo=db.dsn, token=TOKEN)  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    match = resolve("/dashboard/data", urlconf=urls.__name__)
    assert match.kwargs == {"rest": "/data"}
    view = dashboard_view(db.dsn, token=TOKEN)
    assert view(factory.get("/dashboard"), None).status_code == 401
    login = view(factory.post("/dashboard/login", {"token": TOKEN}), "/login")
    assert login.status_code == 303
    assert "SameSite=Strict" in login["Set-Cookie"]
    authorized = factory.get("/dashboard/data", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    answer = view(authorized, "/data")
    assert answer.status_code == 200
    assert json.loads(answer.content)["keys"] == []
