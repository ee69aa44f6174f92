"""The dashboard as a Django view: ``path("dashboard", include(dashboard_urls()))`` in the root
URLconf, or ``re_path(r"^dashboard(?P<rest>/.*)?$", dashboard_view(), ...)``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from pgmetrics.web.dashboard import Dashboard


def dashboard_view(
    conninfo: str | None = None,
    *,
    token: str | None = None,
    mount: str = "/dashboard",
    dashboard: Dashboard | None = None,
) -> Callable[..., Any]:
    """A view answering every path below ``mount``; CSRF-exempt, since the only form it takes
    is the login form, whose cookie is SameSite=Strict."""
    from django.http import HttpResponse  # type: ignore[import-untyped]
    from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

    board = dashboard or Dashboard(conninfo, token=token)
    root = mount.rstrip("/")

    def view(request: Any, rest: str | None = None) -> Any:
        headers = {name.lower(): value for name, value in request.headers.items()}
        answer = board.handle(
            request.method,
            rest or "",
            request.GET.dict(),
            headers,
            # The login form as Django parsed it, urlencoded or multipart.
            urlencode(request.POST.dict()).encode() if request.method == "POST" else b"",
            secure=request.is_secure(),
            mount=root,
        )
        response = HttpResponse(answer.body, status=answer.status)
        for name, value in answer.all_headers():
            if name != "Content-Length":
                response[name] = value
        return response

    exempt: Callable[..., Any] = csrf_exempt(view)
    return exempt


def dashboard_urls(**kwargs: Any) -> list[Any]:
    """The URL patterns of the dashboard at /dashboard: ``urlpatterns += dashboard_urls()``."""
    from django.urls import re_path  # type: ignore[import-untyped]

    mount = kwargs.get("mount", "/dashboard").rstrip("/")
    return [re_path(rf"^{re.escape(mount.lstrip('/'))}(?P<rest>/.*)?$", dashboard_view(**kwargs))]
