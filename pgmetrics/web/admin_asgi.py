"""The admin endpoint as a pure ASGI application.

Starlette / FastAPI: ``app.router.routes.append(Route("/api/admin/metrics", MetricsAdminApp()))``
(or ``app.mount("/api/admin/metrics", MetricsAdminApp())``); ``pgmetrics serve`` runs it alone.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pgmetrics.api import StorageRef
from pgmetrics.storage import MetricsStorage
from pgmetrics.web.admin import Refusal, admit, answer, read_metrics
from pgmetrics.web.asgi import Receive, Scope, Send
from pgmetrics.web.openapi import OPENAPI

if TYPE_CHECKING:
    from pgmetrics.web.dashboard.asgi_app import DashboardApp


async def _respond(
    send: Send, status: int, body: dict[str, Any], extra: tuple[tuple[str, str], ...] = ()
) -> None:
    payload = json.dumps(body, allow_nan=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in extra),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class MetricsAdminApp:
    """Answers GET with the route and operation summaries of the requested range as JSON.

    ``token`` defaults to OBSERVABILITY_METRICS_ADMIN_TOKEN; without a token every request is
    refused. ``storage`` defaults to the module-level storage.
    """

    def __init__(self, storage: MetricsStorage | None = None, *, token: str | None = None) -> None:
        self._storage = StorageRef(storage)
        self._token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "only GET is allowed"})
            return
        headers = dict(scope.get("headers", []))
        authorization = headers.get(b"authorization", b"").decode("latin-1") or None
        query_string = scope.get("query_string", b"").decode("latin-1")
        query = admit(
            authorization, dict(parse_qsl(query_string, keep_blank_values=True)), self._token
        )
        if isinstance(query, Refusal):
            await _respond(send, query.status, {"error": query.error}, query.headers)
            return
        # In a worker thread: the event loop never waits on the database.
        routes, operations = await asyncio.to_thread(read_metrics, self._storage.storage, query)
        await _respond(send, 200, answer(query, routes, operations))


class AdminServer:
    """What ``pgmetrics serve`` runs: the endpoint at /api/admin/metrics, its OpenAPI
    description at /openapi.json and, when given, the dashboard at /dashboard."""

    def __init__(
        self,
        storage: MetricsStorage | None = None,
        *,
        token: str | None = None,
        dashboard: DashboardApp | None = None,
    ) -> None:
        self.admin = MetricsAdminApp(storage, token=token)
        self.dashboard = dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["path"] == "/api/admin/metrics":
            await self.admin(scope, receive, send)
        elif self.dashboard is not None and (
            scope["path"] == "/dashboard" or scope["path"].startswith("/dashboard/")
        ):
            await self.dashboard(scope, receive, send)
        elif scope["path"] == "/openapi.json":
            await _respond(send, 200, OPENAPI)
        else:
            await _respond(send, 404, {"error": "not found"})
