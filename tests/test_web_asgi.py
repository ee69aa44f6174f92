"""MetricsMiddleware on real uvicorn servers: route templates, not raw paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Mount, Route

from pgmetrics import MemoryMetricsStorage
from pgmetrics.types import RouteMetrics, TimeRange
from pgmetrics.web import UNMATCHED, MetricsMiddleware
from tests.servers import asgi_server

STREAM_CHUNKS = 4
STREAM_PAUSE = 0.05


def routes_of(storage: MemoryMetricsStorage) -> dict[tuple[str, str], RouteMetrics]:
    now = datetime.now(UTC)
    report = storage.get_route_metrics(
        time_range=TimeRange(now - timedelta(hours=2), now + timedelta(hours=2)), bucket="all"
    )
    return {(row.route, row.method): row for row in report.rows}


async def _user(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"user {request.path_params['user_id']}")


async def _item(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"item {request.path_params['item_id']}")


async def _unavailable(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("down", status_code=503)


async def _boom(_request: Request) -> PlainTextResponse:
    raise RuntimeError("handler failed")


async def _stream(_request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(STREAM_CHUNKS):
            await asyncio.sleep(STREAM_PAUSE)
            yield f"chunk {index}\n".encode()

    return StreamingResponse(chunks())


def starlette_app(storage: MemoryMetricsStorage) -> Starlette:
    sub_app = Starlette(routes=[Route("/items/{item_id:int}", _item)])
    app = Starlette(
        routes=[
            Route("/users/{user_id}", _user, methods=["GET", "POST"]),
            Route("/unavailable", _unavailable),
            Route("/boom", _boom),
            Route("/stream", _stream),
            Mount("/api/{version}", app=sub_app),
        ]
    )
    app.add_middleware(MetricsMiddleware, storage=storage)
    return app


@pytest.fixture
def storage() -> MemoryMetricsStorage:
    return MemoryMetricsStorage()


def test_requests_count_under_their_route_template(storage: MemoryMetricsStorage) -> None:
    with asgi_server(starlette_app(storage)) as url, httpx.Client(base_url=url) as client:
        for user_id in range(25):
            assert client.get(f"/users/{user_id}").status_code == 200
        for user_id in range(3):
            assert client.post(f"/users/{user_id}").status_code == 200
        assert client.get("/api/v1/items/42").status_code == 200
        assert client.get("/api/v2/items/7").status_code == 200
    rows = routes_of(storage)
    assert set(rows) == {
        ("/users/{user_id}", "GET"),
        ("/users/{user_id}", "POST"),
        ("/api/{version}/items/{item_id}", "GET"),
    }
    assert rows["/users/{user_id}", "GET"].total_requests == 25
    assert rows["/users/{user_id}", "POST"].total_requests == 3
    assert rows["/api/{version}/items/{item_id}", "GET"].total_requests == 2


def test_server_errors_and_exceptions_are_failures(storage: MemoryMetricsStorage) -> None:
    with asgi_server(starlette_app(storage)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/unavailable").status_code == 503
        assert client.get("/no/such/page").status_code == 404
        # Last: after an unhandled exception uvicorn closes the connection.
        assert client.get("/boom").status_code == 500
    rows = routes_of(storage)
    assert (rows["/unavailable", "GET"].successful, rows["/unavailable", "GET"].failed) == (0, 1)
    assert (rows["/boom", "GET"].successful, rows["/boom", "GET"].failed) == (0, 1)
    assert (rows[UNMATCHED, "GET"].successful, rows[UNMATCHED, "GET"].failed) == (1, 0)


def test_success_policy_is_configurable(storage: MemoryMetricsStorage) -> None:
    app = Starlette(routes=[Route("/users/{user_id}", _user)])
    app.add_middleware(MetricsMiddleware, storage=storage, success=lambda status: status < 400)
    with asgi_server(app) as url, httpx.Client(base_url=url) as client:
        client.get("/users/1")
        client.get("/missing")
    rows = routes_of(storage)
    assert rows["/users/{user_id}", "GET"].failed == 0
    assert rows[UNMATCHED, "GET"].failed == 1


def test_streaming_response_is_measured_to_its_end(storage: MemoryMetricsStorage) -> None:
    with asgi_server(starlette_app(storage)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/stream").text.count("chunk") == STREAM_CHUNKS
    row = routes_of(storage)["/stream", "GET"]
    assert row.min_duration_ms >= STREAM_CHUNKS * STREAM_PAUSE * 1000 * 0.9


@pytest.mark.slow
def test_ten_thousand_unmatched_paths_make_one_key(storage: MemoryMetricsStorage) -> None:
    with asgi_server(starlette_app(storage)) as url, httpx.Client(base_url=url) as client:
        for index in range(10_000):
            assert client.get(f"/scan/{index}/wp-login.php").status_code == 404
    rows = routes_of(storage)
    assert list(rows) == [(UNMATCHED, "GET")]
    assert rows[UNMATCHED, "GET"].total_requests == 10_000


def test_fastapi_router_prefix_and_path_parameters(storage: MemoryMetricsStorage) -> None:
    app = FastAPI()
    router = APIRouter(prefix="/v2")

    @router.get("/orders/{order_id}")
    async def order(order_id: int) -> dict[str, int]:
        return {"order_id": order_id}

    app.include_router(router)
    app.add_middleware(MetricsMiddleware, storage=storage)
    with asgi_server(app) as url, httpx.Client(base_url=url) as client:
        for order_id in range(5):
            assert client.get(f"/v2/orders/{order_id}").json() == {"order_id": order_id}
        assert client.get("/v2/orders/not-a-number").status_code == 422
    row = routes_of(storage)["/v2/orders/{order_id}", "GET"]
    assert (row.total_requests, row.failed) == (6, 0)
