"""Pure ASGI middleware recording one route metric per HTTP request (Starlette, FastAPI)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pgmetrics.web.recorder import RouteRecorder, SuccessPolicy
from pgmetrics.web.templates import UNMATCHED

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RouteResolver = Callable[[Scope], str | None]

logger = logging.getLogger("pgmetrics.web")


def starlette_route_template(scope: Scope, entry_root_path: str = "") -> str | None:
    """The template of the route Starlette matched, with the paths of the mounts it went
    through (``/api/v1`` + ``/users/{id}``); None when nothing matched."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return None
    if scope.get("root_path", "") == entry_root_path:
        return path  # no mount crossed: the router's own route is the whole template
    router = scope.get("router")
    if router is None:
        return None
    probe = dict(scope)
    probe["root_path"] = entry_root_path
    probe.pop("path_params", None)
    return _walk(probe, getattr(router, "routes", []))


def _walk(scope: Scope, routes: list[Any]) -> str | None:
    from starlette.routing import Match, Mount

    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = _walk({**scope, **child}, route.routes)
            return None if inner is None else route.path + inner
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else None
    return None


class MetricsMiddleware:
    """``app.add_middleware(MetricsMiddleware)``, or wrap any ASGI app.

    A request counts under its route template (``/users/{id}``); a request no route matched
    counts under ``__unmatched__``. It succeeds when ``success(status)`` holds (status < 500
    by default); an exception counts as a failure and propagates. The duration runs from the
    request's start to the last byte of its response body, so streaming responses are
    measured to their end.
    """

    def __init__(
        self,
        app: ASGIApp,
        storage: Any = None,
        *,
        success: SuccessPolicy | None = None,
        route_template: RouteResolver | None = None,
    ) -> None:
        self.app = app
        self.recorder = RouteRecorder(storage, success)
        self.route_template = route_template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        entry_root_path = scope.get("root_path", "")
        status = 500
        finished = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Recorded before the last chunk goes out, so that a client holding the
                # response always finds its request counted.
                finished = True
                self._record(scope, entry_root_path, status, started)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            if not finished:
                self._record(scope, entry_root_path, 500, started)
            raise
        if not finished:
            # The app returned without completing a response (client gone, or a bug).
            self._record(scope, entry_root_path, status, started)

    def _record(self, scope: Scope, entry_root_path: str, status: int, started: float) -> None:
        duration_ms = (time.perf_counter() - started) * 1000.0
        try:
            if self.route_template is not None:
                template = self.route_template(scope)
            else:
                template = starlette_route_template(scope, entry_root_path)
        except Exception:  # a resolver must never break the response
            logger.exception("pgmetrics: route template resolution failed")
            template = None
        self.recorder.record(template or UNMATCHED, scope.get("method", "GET"), status, duration_ms)
