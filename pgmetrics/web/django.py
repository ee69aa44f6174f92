"""Django support: put ``pgmetrics.web.django.RouteTemplateMiddleware`` in MIDDLEWARE and
wrap the WSGI application in ``WSGIMetricsMiddleware``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgmetrics.web.wsgi import ENVIRON_KEY


class RouteTemplateMiddleware:
    """Hands Django's matched ``resolver_match.route`` to the WSGI middleware."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

    def process_view(self, request: Any, view_func: Any, view_args: Any, view_kwargs: Any) -> None:
        match = getattr(request, "resolver_match", None)
        route = getattr(match, "route", None)
        if route:
            # request.META is the WSGI environ dict itself.
            request.META[ENVIRON_KEY] = route
