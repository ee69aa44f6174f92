"""The dashboard as a Flask blueprint: ``app.register_blueprint(dashboard_blueprint())``."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, request

from pgmetrics.web.dashboard import Dashboard


def dashboard_blueprint(
    conninfo: str | None = None,
    *,
    token: str | None = None,
    path: str = "/dashboard",
    dashboard: Dashboard | None = None,
) -> Blueprint:
    board = dashboard or Dashboard(conninfo, token=token)
    mount = path.rstrip("/")
    blueprint = Blueprint("pgmetrics_dashboard", __name__)

    def serve(rest: str = "") -> Response:
        answer = board.handle(
            request.method,
            "/" + rest if rest else "",
            request.args.to_dict(),
            {name.lower(): value for name, value in request.headers.items()},
            # The login form as Flask parsed it, urlencoded or multipart.
            urlencode(request.form.to_dict()).encode() if request.method == "POST" else b"",
            secure=request.is_secure,
            mount=mount,
        )
        response = Response(answer.body, status=answer.status)
        for name, value in answer.all_headers():
            response.headers[name] = value
        return response

    blueprint.add_url_rule(mount or "/", "page", serve, methods=["GET", "HEAD", "POST"])
    if mount:
        blueprint.add_url_rule(f"{mount}/", "slash", serve, methods=["GET", "HEAD"])
    blueprint.add_url_rule(f"{mount}/<path:rest>", "rest", serve, methods=["GET", "HEAD", "POST"])
    return blueprint
