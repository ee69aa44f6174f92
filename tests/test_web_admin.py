"""GET /api/admin/metrics on real servers: Starlette (ASGI) and Flask (WSGI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.routing import Route

from pgmetrics import MemoryMetricsStorage
from pgmetrics.web import MetricsAdminApp
from pgmetrics.web.admin import BadRequest, parse_query
from pgmetrics.web.admin_flask import admin_blueprint
from tests.servers import asgi_server, wsgi_server

TOKEN = "admin-token-for-tests"  # noqa: S105
PATH = "/api/admin/metrics"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

Serve = Callable[[MemoryMetricsStorage, "str | None"], AbstractContextManager[str]]


def _serve_starlette(
    storage: MemoryMetricsStorage, token: str | None
) -> AbstractContextManager[str]:
    return asgi_server(Starlette(routes=[Route(PATH, MetricsAdminApp(storage, token=token))]))


def _serve_flask(storage: MemoryMetricsStorage, token: str | None) -> AbstractContextManager[str]:
    app = Flask(__name__)
    app.register_blueprint(admin_blueprint(storage, token=token))
    return wsgi_server(app)


@pytest.fixture(params=[_serve_starlette, _serve_flask], ids=["starlette", "flask"])
def serve(request: pytest.FixtureRequest) -> Serve:
    serve_function: Serve = request.param
    return serve_function


@pytest.fixture
def storage() -> MemoryMetricsStorage:
    storage = MemoryMetricsStorage()
    now = datetime.now(UTC)
    storage.record_route_metric("/users/{id}", "GET", True, 10.0, at=now)
    storage.record_route_metric("/users/{id}", "GET", False, 30.0, at=now)
    storage.record_operation_metric("send_email", True, 120.0, at=now)
    return storage


@pytest.fixture
def client(serve: Serve, storage: MemoryMetricsStorage) -> Iterator[httpx.Client]:
    with serve(storage, TOKEN) as url, httpx.Client(base_url=url) as http:
        yield http


def test_answers_summaries_as_json(client: httpx.Client) -> None:
    response = client.get(PATH, params={"bucket": "all"}, headers=AUTH)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["source"] == "memory"
    assert body["range"]["bucket"] == "all"
    [route] = body["routes"]
    assert (route["route"], route["method"], route["total_requests"], route["failed"]) == (
        "/users/{id}",
        "GET",
        2,
        1,
    )
    assert route["error_rate"] == 0.5
    assert route["average_duration_ms"] == 20.0
    [operation] = body["operations"]
    assert (operation["operation"], operation["total_executions"]) == ("send_email", 1)


def test_filters_and_default_range(client: httpx.Client) -> None:
    body = client.get(PATH, params={"route": "/nothing"}, headers=AUTH).json()
    assert body["routes"] == []
    start = datetime.fromisoformat(body["range"]["start"])
    end = datetime.fromisoformat(body["range"]["end"])
    assert end - start == timedelta(hours=24)
    assert client.get(PATH, params={"method": "get", "bucket": "all"}, headers=AUTH).json()[
        "routes"
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": ""},
    ],
    ids=["missing", "wrong", "other-scheme", "empty"],
)
def test_refuses_missing_or_wrong_token(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(PATH, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "routes" not in response.json()


def test_refuses_everything_without_configured_token(
    serve: Serve, storage: MemoryMetricsStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBSERVABILITY_METRICS_ADMIN_TOKEN", raising=False)
    with serve(storage, None) as url, httpx.Client(base_url=url) as http:
        for headers in ({}, AUTH, {"Authorization": "Bearer"}):
            response = http.get(PATH, headers=headers)
            assert response.status_code == 403
            assert "OBSERVABILITY_METRICS_ADMIN_TOKEN" in response.json()["error"]


def test_token_from_environment(
    serve: Serve, storage: MemoryMetricsStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBSERVABILITY_METRICS_ADMIN_TOKEN", "from-env")
    with serve(storage, None) as url, httpx.Client(base_url=url) as http:
        assert http.get(PATH, headers={"Authorization": "Bearer from-env"}).status_code == 200
        assert http.get(PATH, headers=AUTH).status_code == 401


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"start": "yesterday"}, "start"),
        ({"end": "2026-13-01T00:00:00Z"}, "end"),
        ({"start": "2026-02-02T00:00:00Z", "end": "2026-02-01T00:00:00Z"}, "start"),
        ({"bucket": "minute"}, "bucket"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"method": "FETCH"}, "method"),
        ({"route": "x" * 1025}, "route"),
        ({"operation": ""}, "operation"),
        ({"limit": "10"}, "limit"),
        ({"end": "0001-01-01T00:00:00+00:00"}, "end"),
    ],
)
def test_malformed_parameters_answer_400(
    client: httpx.Client, params: dict[str, str], named: str
) -> None:
    response = client.get(PATH, params=params, headers=AUTH)
    assert response.status_code == 400
    assert named in response.json()["error"]


@pytest.mark.parametrize("name", ["route", "operation"])
def test_a_name_with_a_lone_surrogate_is_a_bad_request(name: str) -> None:
    # A framework that decodes invalid UTF-8 in a query string with surrogateescape hands
    # such a value over: it is refused like any other malformed name.
    with pytest.raises(BadRequest, match=name):
        parse_query({name: "/users/\udcff"})
