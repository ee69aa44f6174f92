"""WSGI middleware recording one route metric per HTTP request (Flask, Django).

``app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app)`` for Flask, outermost (after any other
WSGI middleware such as ProxyFix); for Django wrap the WSGI application and add
``pgmetrics.web.django.RouteTemplateMiddleware`` to MIDDLEWARE so the matched route reaches the
WSGI layer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from pgmetrics.storage import MetricsStorage
from pgmetrics.web.recorder import RouteRecorder, SuccessPolicy
from pgmetrics.web.templates import UNMATCHED

logger = logging.getLogger("pgmetrics.web")

# Where the framework's hook leaves the matched template. The middleware puts a RouteSlot in the
# environ before calling the application: a middleware in between that copies the environ copies
# the reference, so the hook's write reaches the middleware whatever wraps what. ENVIRON_KEY is
# read too, for hooks that write the template into the environ itself.
SLOT_KEY = "pgmetrics.route_slot"
ENVIRON_KEY = "pgmetrics.route_template"

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Resolver = Callable[[Environ], str | None]

# Resolvers for requests no hook saw, registered by framework integrations (Django's, when a
# middleware before RouteTemplateMiddleware answered without calling the next one).
_fallback_resolvers: list[Resolver] = []


class RouteSlot:
    __slots__ = ("template",)

    def __init__(self) -> None:
        self.template: str | None = None


def remember_template(environ: Environ, template: str) -> None:
    """What a framework hook calls with the template it matched."""
    slot = environ.get(SLOT_KEY)
    if isinstance(slot, RouteSlot):
        slot.template = template
    environ[ENVIRON_KEY] = template


def register_fallback_resolver(resolver: Resolver) -> None:
    if resolver not in _fallback_resolvers:
        _fallback_resolvers.append(resolver)


def _template(environ: Environ, slot: RouteSlot) -> str:
    if slot.template:
        return slot.template
    template = environ.get(ENVIRON_KEY)
    if isinstance(template, str) and template:
        return template
    # Flask (werkzeug) leaves its request in the environ; its url_rule is the matched route.
    rule = getattr(getattr(environ.get("werkzeug.request"), "url_rule", None), "rule", None)
    if isinstance(rule, str) and rule:
        return rule
    for resolver in _fallback_resolvers:
        try:
            resolved = resolver(environ)
        except Exception:
            logger.exception("pgmetrics: route template resolution failed")
            continue
        if resolved:
            return resolved
    return UNMATCHED


def _flask_app(app: object) -> Any:
    """The Flask application under ``app``: its bound ``wsgi_app``, the app itself, or either
    wrapped by other middleware (``.app`` as werkzeug's ProxyFix, or ``__wrapped__``)."""
    current: object = app
    for _ in range(32):
        for candidate in (getattr(current, "__self__", None), current):
            if hasattr(candidate, "url_map") and hasattr(candidate, "teardown_request"):
                return candidate
        inner = getattr(current, "app", None) or getattr(current, "__wrapped__", None)
        if inner is None or inner is current:
            return None
        current = inner
    return None


def _install_flask_hook(app: WSGIApp) -> None:
    flask_app = _flask_app(app)
    if flask_app is None:
        return
    from flask import request

    def remember_rule(error: BaseException | None) -> None:
        # Teardown runs for every request, after hooks that answered first (an authentication
        # before_request returning 401) and after errors, unlike before_request.
        if request.url_rule is not None:
            remember_template(request.environ, request.url_rule.rule)

    flask_app.teardown_request(remember_rule)


class WSGIMetricsMiddleware:
    """Counts each request under its route template (``__unmatched__`` when no route
    matched); success is ``status < 500`` unless ``success`` says otherwise; an exception
    is a failure and propagates; the duration ends with the last chunk of the body."""

    def __init__(
        self,
        app: WSGIApp,
        storage: MetricsStorage | None = None,
        *,
        success: SuccessPolicy | None = None,
    ) -> None:
        self.app = app
        self.recorder = RouteRecorder(storage, success)
        _install_flask_hook(app)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status = [500]
        slot = RouteSlot()
        environ[SLOT_KEY] = slot

        def start_response_wrapper(
            status_line: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            status[0] = int(status_line.split(" ", 1)[0])
            if exc_info is None:
                return start_response(status_line, headers)
            return start_response(status_line, headers, exc_info)

        def record(final_status: int) -> None:
            self.recorder.record(
                _template(environ, slot),
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
