"""Pure ASGI middleware recording one route metric per HTTP request (Starlette, FastAPI)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pgmetrics.shutdown import deliver, start
from pgmetrics.storage import MetricsStorage
from pgmetrics.web.recorder import RouteRecorder, SuccessPolicy
from pgmetrics.web.templates import UNMATCHED

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RouteResolver = Callable[[Scope], str | None]

logger = logging.getLogger("pgmetrics.web")

# Where a framework's own hook leaves the template it matched in the ASGI scope (Django's
# RouteTemplateMiddleware, whose request holds the scope the server passed in).
SCOPE_KEY = "pgmetrics.route_template"

# Resolvers for requests no hook saw, registered by framework integrations (Django's, when a
# middleware before RouteTemplateMiddleware answered without calling the next one).
_fallback_resolvers: list[RouteResolver] = []


def register_fallback_resolver(resolver: RouteResolver) -> None:
    if resolver not in _fallback_resolvers:
        _fallback_resolvers.append(resolver)


async def _in_thread(function: Callable[..., object], *args: object) -> None:
    """Runs blocking delivery off the event loop when the loop is asyncio's; under another
    loop (trio) it runs inline, which at startup and shutdown delays no request."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        function(*args)
        return
    await loop.run_in_executor(None, function, *args)


def _leaf_template(scope: Scope) -> str | None:
    """The matched route's path within the innermost application."""
    # FastAPI's nested include_router keeps each route as declared and puts the path with all
    # the routers' prefixes in its effective route context.
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        path = getattr(fastapi_scope.get("effective_route_context"), "path", None)
        if isinstance(path, str) and path:
            return path
    route = scope.get("route")
    if hasattr(route, "routes"):
        # A mount whose own routes matched nothing: Starlette answers 404 for no route.
        return None
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def starlette_route_template(scope: Scope, entry_root_path: str = "") -> str | None:
    """The template of the route Starlette matched, with the paths of the mounts it went
    through (``/api/v{version}`` + ``/users/{id}``); an application mounted without routes of
    its own (``StaticFiles``, prometheus_client's ``make_asgi_app()``) counts under its mount's
    path. None when nothing matched."""
    leaf = _leaf_template(scope)
    if leaf is None:
        # Starlette's Route, as FastAPI's router runs it (an admin Route appended to
        # app.router.routes), and a mounted app that has no routes leave no route in the scope:
        # the router's routes are matched again as the router matched them.
        if "endpoint" not in scope:
            return None  # nothing matched: the router put no endpoint in the scope
        router = scope.get("router")
        if router is None:
            return None
        probe = dict(scope)
        probe["root_path"] = entry_root_path
        probe.pop("path_params", None)
        return _matched_template(probe, getattr(router, "routes", []), 0)
    root_path = scope.get("root_path", "")
    if root_path == entry_root_path:
        return leaf  # no mount crossed: the router's own route is the whole template
    router = scope.get("router")
    if router is None:
        return None
    probe = dict(scope)
    probe["root_path"] = entry_root_path
    probe.pop("path_params", None)
    prefix = _mount_prefix(probe, getattr(router, "routes", []), root_path)
    return None if prefix is None else prefix + leaf


def _choose(scope: Scope, routes: list[Any]) -> tuple[Any, dict[str, Any]] | None:
    """The route ``Router.app`` hands the request to: the first full match, else the first
    partial one."""
    from starlette.routing import Match

    chosen: tuple[Any, dict[str, Any]] | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route, child
        if match is Match.PARTIAL and chosen is None:
            chosen = (route, child)
    return chosen


_MAX_DEPTH = 32


def _matched_template(scope: Scope, routes: list[Any], depth: int) -> str | None:
    """The template of the route the request reaches through ``routes``: a route's path, the
    paths of the mounts on the way, and a mount's own path when its app has no routes."""
    chosen = _choose(scope, routes)
    if chosen is None or depth > _MAX_DEPTH:
        return None
    route, child = chosen
    inner_routes = getattr(route, "routes", None)
    if inner_routes is None:  # a Route or WebSocketRoute
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else None
    mount_path = getattr(route, "path", "")  # a Host has none
    if not isinstance(mount_path, str):
        return None
    if not inner_routes:
        # An app without routes: everything under the mount is one key, never the raw path.
        return mount_path or None
    rest = _matched_template({**scope, **child}, list(inner_routes), depth + 1)
    return None if rest is None else mount_path + rest


def _mount_prefix(scope: Scope, routes: list[Any], root_path: str) -> str | None:
    """The templates of the mounts the router went through to reach ``root_path``, choosing
    at each level as ``Router.app`` does: the first full match, else the first partial one."""
    from starlette.routing import Mount

    chosen = _choose(scope, routes)
    if chosen is None or not isinstance(chosen[0], Mount):
        return None
    mount, child = chosen
    inner = {**scope, **child}
    if inner.get("root_path", "") == root_path:
        return str(mount.path)
    rest = _mount_prefix(inner, mount.routes, root_path)
    return None if rest is None else mount.path + rest


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
        storage: MetricsStorage | None = None,
        *,
        success: SuccessPolicy | None = None,
        route_template: RouteResolver | None = None,
    ) -> None:
        self.app = app
        self.recorder = RouteRecorder(storage, success)
        self.route_template = route_template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
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

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = False

        async def receive_wrapper() -> Message:
            nonlocal received
            received = True
            return await receive()

        try:
            await self.app(scope, receive_wrapper, self._lifespan_send(send))
        except Exception:
            if received:
                raise
            # No lifespan support: the app refused the scope before reading a message (Django's
            # ASGIHandler raises ValueError). The server would carry on without lifespan and,
            # when it re-raises SIGTERM, end the process with everything recorded undelivered.
            logger.debug("pgmetrics: the application has no ASGI lifespan; answering it here")
        else:
            if received:
                return
        await self._own_lifespan(receive, send)

    async def _own_lifespan(self, receive: Receive, send: Send) -> None:
        """Answers the lifespan messages for an application that has none: starts the storage
        at startup and delivers what it holds at shutdown."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _in_thread(start, self.recorder.storage)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _in_thread(deliver, self.recorder.storage, "ASGI lifespan shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _lifespan_send(self, send: Send) -> Send:
        """The application's lifespan messages, with delivery hooked in: the storage starts at
        startup (claiming what a previous process spooled), and delivers everything it holds
        before the server hears that shutdown is complete. Servers that end their workers by
        re-raising SIGTERM (uvicorn, gunicorn's UvicornWorker) run no exit hook after that."""

        async def lifespan_send(message: Message) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.complete":
                await _in_thread(start, self.recorder.storage)
            elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await _in_thread(deliver, self.recorder.storage, "ASGI lifespan shutdown")
            await send(message)

        return lifespan_send

    def _record(self, scope: Scope, entry_root_path: str, status: int, started: float) -> None:
        duration_ms = (time.perf_counter() - started) * 1000.0
        template = self._template(scope, entry_root_path)
        self.recorder.record(template or UNMATCHED, scope.get("method", "GET"), status, duration_ms)

    def _template(self, scope: Scope, entry_root_path: str) -> str | None:
        hooked = scope.get(SCOPE_KEY)
        if isinstance(hooked, str) and hooked:
            return hooked
        resolvers: list[RouteResolver] = [
            self.route_template or (lambda scope: starlette_route_template(scope, entry_root_path)),
            *_fallback_resolvers,
        ]
        for resolver in resolvers:
            try:
                template = resolver(scope)
            except Exception:  # a resolver must never break the response
                logger.exception("pgmetrics: route template resolution failed")
                continue
            if template:
                return template
        return None
