"""WSGI middleware recording one route metric per HTTP request (Flask, Django).

``app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app)`` for Flask; for Django wrap the WSGI
application and add ``pgmetrics.web.django.RouteTemplateMiddleware`` to MIDDLEWARE so the
matched ``resolver_match.route`` reaches the WSGI layer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from pgmetrics.web.recorder import RouteRecorder, SuccessPolicy
from pgmetrics.web.templates import UNMATCHED

# The framework hook (Flask's before_request, Django's middleware) leaves the matched
# template in the environ under this key; the environ is the framework's request.environ.
ENVIRON_KEY = "pgmetrics.route_template"

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def _install_flask_hook(app: WSGIApp) -> None:
    flask_app = getattr(app, "__self__", None)
    before_request = getattr(flask_app, "before_request", None)
    if flask_app is None or before_request is None or not hasattr(flask_app, "url_map"):
        return
    from flask import request

    def remember_rule() -> None:
        if request.url_rule is not None:
            request.environ[ENVIRON_KEY] = request.url_rule.rule

    before_request(remember_rule)


class WSGIMetricsMiddleware:
    """Counts each request under its route template (``__unmatched__`` when no route
    matched); success is ``status < 500`` unless ``success`` says otherwise; an exception
    is a failure and propagates; the duration ends with the last chunk of the body."""

    def __init__(
        self,
        app: WSGIApp,
        storage: Any = None,
        *,
        success: SuccessPolicy | None = None,
    ) -> None:
        self.app = app
        self.recorder = RouteRecorder(storage, success)
        _install_flask_hook(app)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status = [500]

        def start_response_wrapper(
            status_line: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            status[0] = int(status_line.split(" ", 1)[0])
            if exc_info is None:
                return start_response(status_line, headers)
            return start_response(status_line, headers, exc_info)

        def record(final_status: int) -> None:
            self.recorder.record(
                environ.get(ENVIRON_KEY) or UNMATCHED,
                environ.get("REQUEST_METHOD", "GET"),
                final_status,
                (time.perf_counter() - started) * 1000.0,
            )

        try:
            body = self.app(environ, start_response_wrapper)
        except BaseException:
            record(500)
            raise
        return _ClosingBody(body, lambda failed: record(500 if failed else status[0]))


class _ClosingBody:
    """Passes the body through and records when it is exhausted, or when the server closes
    it early (PEP 3333)."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[bool], None]) -> None:
        self._body = body
        self._on_close = on_close
        self._failed = False
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except BaseException:
            self._failed = True
            raise
        # Counted once the body is produced, before the server ends the response, so that a
        # client holding the response always finds its request counted.
        self._finish()

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._on_close(self._failed)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()
