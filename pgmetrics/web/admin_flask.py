"""The admin endpoint as a Flask blueprint: ``app.register_blueprint(admin_blueprint())``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from pgmetrics.web.admin import (
    DISABLED,
    UNAUTHORIZED,
    BadRequest,
    answer,
    authorized,
    configured_token,
    parse_query,
)
from pgmetrics.web.recorder import StorageRef


def admin_blueprint(
    storage: Any = None, *, token: str | None = None, path: str = "/api/admin/metrics"
) -> Blueprint:
    storage_ref = StorageRef(storage)
    blueprint = Blueprint("pgmetrics_admin", __name__)

    @blueprint.get(path)
    def metrics() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
        expected = token if token is not None else configured_token()
        if not expected:
            return jsonify(DISABLED), 403
        if not authorized(request.headers.get("Authorization"), expected):
            return jsonify(UNAUTHORIZED), 401, {"WWW-Authenticate": 'Bearer realm="pgmetrics"'}
        try:
            query = parse_query(request.args.to_dict())
        except BadRequest as exc:
            return jsonify({"error": str(exc)}), 400
        routes = storage_ref.storage.get_route_metrics(
            route=query.route,
            method=query.method,
            time_range=query.time_range,
            bucket=query.bucket,
            tz=query.tz,
        )
        operations = storage_ref.storage.get_operation_metrics(
            operation=query.operation, time_range=query.time_range, bucket=query.bucket, tz=query.tz
        )
        return jsonify(answer(query, routes, operations)), 200

    return blueprint
