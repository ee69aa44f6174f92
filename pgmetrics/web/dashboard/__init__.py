"""The dashboard: one page per question (what is slow, what fails, what changed) over the
summaries the database holds, read through the reader role's functions.

Framework-neutral: ``Dashboard.handle`` takes a request's method, path below the mount point,
query, headers and form body and returns a ``Response``; ``DashboardApp`` (ASGI),
``dashboard_blueprint`` (Flask) and ``dashboard_view`` (Django) wrap it. The page, its script
and its styles ship in the package (``static/``); the page asks for nothing else.

Authentication is the admin endpoint's: its token (OBSERVABILITY_METRICS_ADMIN_TOKEN), sent as
a bearer header or entered once in the login form, which sets it as an HttpOnly, SameSite=Strict
cookie. Without a token configured every page is refused, as the endpoint refuses.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import psycopg
import psycopg_pool
from psycopg.rows import dict_row

from pgmetrics.config import database_url, read_database_url
from pgmetrics.web.admin import TOKEN_VARIABLE, authorized, configured_token
from pgmetrics.web.dashboard.data import DashboardRequestError, Kind, key_of, read, window

COOKIE = "pgmetrics_dashboard"
# The pages the script draws, by the path below the mount point.
PAGES: dict[str, Kind] = {
    "": "routes",
    "/": "routes",
    "/route": "routes",
    "/operations": "operations",
    "/operation": "operations",
}
STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
# The page runs only its own script and styles: nothing inline, nothing from elsewhere.
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())

    def all_headers(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            *SECURITY_HEADERS,
            *self.headers,
        ]


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status, "application/json", json.dumps(body, allow_nan=False).encode())


def _page(status: int, name: str, replacements: Mapping[str, str] | None = None) -> Response:
    text = _asset(name).decode()
    # Only fixed strings of this module go in: nothing a request sent is echoed.
    for marker, value in (replacements or {}).items():
        text = text.replace(marker, value)
    return Response(status, "text/html; charset=utf-8", text.encode())


def _refused(message: str, status: int, mount: str) -> Response:
    return _page(
        status, "login.html", {"{{message}}": html.escape(message), "{{mount}}": html.escape(mount)}
    )


class Dashboard:
    """The dashboard's requests. ``conninfo`` defaults to OBSERVABILITY_METRICS_READ_DATABASE_URL,
    then OBSERVABILITY_METRICS_DATABASE_URL (a role that is a member of pgmetrics_reader is
    enough); ``token`` to OBSERVABILITY_METRICS_ADMIN_TOKEN. Connects on the first read."""

    def __init__(self, conninfo: str | None = None, *, token: str | None = None) -> None:
        self._conninfo = conninfo
        self._token = token
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def _expected_token(self) -> str | None:
        return self._token if self._token is not None else configured_token()

    def _connection_pool(self) -> psycopg_pool.ConnectionPool[psycopg.Connection[dict[str, Any]]]:
        with self._lock:
            if self._pool is None:
                conninfo = self._conninfo or read_database_url() or database_url()
                if not conninfo:
                    raise DashboardRequestError(
                        "no database: set OBSERVABILITY_METRICS_DATABASE_URL"
                    )
                self._pool = psycopg_pool.ConnectionPool(
                    conninfo,
                    connection_class=psycopg.Connection[dict[str, Any]],
                    kwargs={"row_factory": dict_row, "autocommit": True},
                    min_size=1,
                    max_size=4,
                    open=False,
                    name="pgmetrics-dashboard",
                )
                self._pool.open(wait=False)
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def _authorized(self, headers: Mapping[str, str], expected: str) -> bool:
        if authorized(headers.get("authorization"), expected):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no cookie
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and authorized(f"Bearer {unquote(morsel.value)}", expected)

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        secure: bool = False,
        mount: str = "/dashboard",
    ) -> Response:
        """The answer to one request; ``headers`` with lower-case names, ``path`` below
        ``mount``, ``secure`` when it came over HTTPS (the cookie is then Secure too)."""
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            if name not in STATIC or method not in ("GET", "HEAD"):
                return _json(404, {"error": "not found"})
            return Response(200, STATIC[name], _asset(name))
        expected = self._expected_token()
        if not expected:
            return _refused(f"The dashboard is disabled: set {TOKEN_VARIABLE}.", 403, mount)
        if path == "/login":
            return self._login(method, body, expected, secure=secure, mount=mount)
        if path == "/logout" and method == "POST":
            cleared = self._cookie("", mount, secure, max_age=0)
            return Response(303, "text/plain", b"", (("Location", mount), ("Set-Cookie", cleared)))
        if method not in ("GET", "HEAD"):
            return _json(405, {"error": "only GET is allowed"})
        if not self._authorized(headers, expected):
            if path == "/data":
                return _json(401, {"error": "missing or invalid token"})
            return _refused("", 401, mount)
        if path == "/data":
            return self._data(query)
        if path in PAGES:
            return _page(200, "dashboard.html", {"{{mount}}": html.escape(mount)})
        return _json(404, {"error": "not found"})

    @staticmethod
    def _cookie(value: str, mount: str, secure: bool, max_age: int | None = None) -> str:
        parts = [f"{COOKIE}={value}", f"Path={mount or '/'}", "HttpOnly", "SameSite=Strict"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if secure:
            parts.append("Secure")
        return "; ".join(parts)

    def _login(
        self, method: str, body: bytes, expected: str, *, secure: bool, mount: str
    ) -> Response:
        if method in ("GET", "HEAD"):
            return _refused("", 200, mount)
        if method != "POST":
            return _json(405, {"error": "only GET and POST are allowed"})
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        presented = form.get("token", "")
        if not authorized(f"Bearer {presented}", expected):
            return _refused("Wrong token.", 401, mount)
        # Percent-encoded: any token fits the cookie grammar.
        cookie = self._cookie(quote(presented, safe=""), mount, secure)
        return Response(
            303, "text/plain", b"", (("Location", mount or "/"), ("Set-Cookie", cookie))
        )

    def _data(self, query: Mapping[str, str]) -> Response:
        params = dict(query)
        view = params.get("view", "routes")
        if view not in ("routes", "operations"):
            return _json(400, {"error": "view must be routes or operations"})
        kind: Kind = "routes" if view == "routes" else "operations"
        try:
            w = window(params)
            key = key_of(kind, params)
            pool = self._connection_pool()
        except DashboardRequestError as exc:
            return _json(400, {"error": str(exc)})
        try:
            with pool.connection() as conn:
                return _json(200, read(conn, kind, w, key))
        except psycopg.errors.DataException as exc:
            return _json(400, {"error": str(exc.diag.message_primary or exc)})
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            return _json(503, {"error": f"the database could not answer: {type(exc).__name__}"})
