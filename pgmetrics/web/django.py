"""Django support: put ``pgmetrics.web.django.RouteTemplateMiddleware`` anywhere in MIDDLEWARE
and wrap the WSGI application in ``WSGIMetricsMiddleware``.

The template is read once the response exists, so requests that a middleware refused after the
URL was resolved (CSRF in ``process_view``, ``LoginRequiredMiddleware``) keep their route. A
middleware listed before this one that answers without calling the next (an authentication
middleware returning 401) skips it, and Django's URL resolution with it: for those the WSGI layer
resolves the path against the root URLconf itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgmetrics.web.templates import regex_template
from pgmetrics.web.wsgi import Environ, register_fallback_resolver, remember_template


def route_template(match: Any) -> str | None:
    """The template of a ``ResolverMatch``: its ``route``, with the parts written as regular
    expressions (``re_path``, the admin's app index) turned into ``{name}`` form."""
    route = getattr(match, "route", None)
    if not isinstance(route, str) or match is None:
        return None
    return regex_template(route) or "/"


def resolve_environ(environ: Environ) -> str | None:
    """The template of the root URLconf's route for the request's path; None for no route."""
    from django.urls import Resolver404, resolve  # type: ignore[import-untyped]

    raw = environ.get("PATH_INFO") or "/"
    path = raw.encode("iso-8859-1").decode("utf-8", "replace")
    try:
        return route_template(resolve(path))
    except Resolver404:
        return None


class RouteTemplateMiddleware:
    """Hands the route Django matched to the WSGI middleware, wherever it is in MIDDLEWARE."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        register_fallback_resolver(resolve_environ)

    def __call__(self, request: Any) -> Any:
        try:
            return self.get_response(request)
        finally:
            template = route_template(getattr(request, "resolver_match", None))
            if template:
                # request.META is the WSGI environ dict itself.
                remember_template(request.META, template)
