"""The dashboard as an ASGI application: ``app.mount("/dashboard", DashboardApp())`` in
Starlette / FastAPI; ``pgmetrics serve`` serves it at /dashboard."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from pgmetrics.web.asgi import Receive, Scope, Send
from pgmetrics.web.dashboard import Dashboard

# A login form is a token and a few bytes more: a larger body is not read.
MAX_BODY = 4096


async def _body(receive: Receive) -> bytes:
    chunks = b""
    while True:
        message = await receive()
        chunks += bytes(message.get("body", b""))
        if len(chunks) > MAX_BODY:
            return b""
        if not message.get("more_body"):
            return chunks


class DashboardApp:
    """Serves the dashboard below ``mount`` (the path it is mounted at; Starlette's ``mount``
    sets ``root_path``, which is used when present)."""

    def __init__(
        self,
        conninfo: str | None = None,
        *,
        token: str | None = None,
        mount: str = "/dashboard",
        dashboard: Dashboard | None = None,
    ) -> None:
        self.dashboard = dashboard or Dashboard(conninfo, token=token)
        self._mount = mount.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        mount = (scope.get("root_path") or self._mount).rstrip("/")
        if path.startswith(mount):
            path = path[len(mount) :]
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        query = dict(
            parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        )
        body = await _body(receive) if scope["method"] == "POST" else b""
        # In a worker thread: the event loop never waits on the database.
        response = await asyncio.to_thread(
            self.dashboard.handle,
            scope["method"],
            path,
            query,
            headers,
            body,
            secure=scope.get("scheme") == "https",
            mount=mount,
        )
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in response.all_headers()
                ],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": b"" if scope["method"] == "HEAD" else response.body,
            }
        )
