"""Django support: put ``pgmetrics.web.django.RouteTemplateMiddleware`` anywhere in MIDDLEWARE
and wrap the WSGI application in ``WSGIMetricsMiddleware``, or the ASGI application
(``get_asgi_application()``) in ``MetricsMiddleware``.

The template is read once the response exists, so requests that a middleware refused after the
URL was resolved (CSRF in ``process_view``, ``LoginRequiredMiddleware``) keep their route. A
middleware listed before this one that answers without calling the next (an authentication
middleware returning 401) skips it, and Django's URL resolution with it: for those the WSGI or
ASGI layer resolves the path against the root URLconf itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from pgmetrics.web import asgi
from pgmetrics.web.templates import regex_template
from pgmetrics.web.wsgi import Environ, register_fallback_resolver, remember_template


def route_template(match: Any) -> str | None:
    """The template of a ``ResolverMatch``: its ``route``, with the parts written as regular
    expressions (``re_path``, the admin's app index) turned into ``{name}`` form."""
    route = getattr(match, "route", None)
    if not isinstance(route, str) or match is None:
        return None
    return regex_template(route) or "/"


def _resolve(path: str) -> str | None:
    from django.urls import Resolver404, resolve  # type: ignore[import-untyped]

    try:
        return route_template(resolve(path))
    except Resolver404:
        return None


def resolve_environ(environ: Environ) -> str | None:
    """The template of the root URLconf's route for the request's path; None for no route."""
    raw = environ.get("PATH_INFO") or "/"
    return _resolve(raw.encode("iso-8859-1").decode("utf-8", "replace"))


def resolve_scope(scope: asgi.Scope) -> str | None:
    """The same for an ASGI request: its path within the root path, as Django's ASGIRequest
    takes it."""
    if "path" not in scope or scope.get("type") != "http":
        return None
    path = str(scope["path"])
    root_path = str(scope.get("root_path", ""))
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return _resolve(path or "/")


def _remember(request: Any) -> None:
    template = route_template(getattr(request, "resolver_match", None))
    if not template:
        return
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        # Under ASGI, request.scope is the dict the server handed MetricsMiddleware.
        scope[asgi.SCOPE_KEY] = template
    else:
        # Under WSGI, request.META is the environ dict itself.
        remember_template(request.META, template)


class RouteTemplateMiddleware:
    """Hands the route Django matched to the WSGI or ASGI middleware, wherever it is in
    MIDDLEWARE. Sync and async: under ASGI it adds no thread hop of its own."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)
        register_fallback_resolver(resolve_environ)
        asgi.register_fallback_resolver(resolve_scope)

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        try:
            return self.get_response(request)
        finally:
            _remember(request)

    async def _acall(self, request: Any) -> Any:
        try:
            return await self.get_response(request)
        finally:
            _remember(request)
