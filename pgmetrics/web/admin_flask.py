"""The admin endpoint as a Flask blueprint: ``app.register_blueprint(admin_blueprint())``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from pgmetrics.web.admin import Refusal, admit, answer
from pgmetrics.web.recorder import StorageRef


def admin_blueprint(
    storage: Any = None, *, token: str | None = None, path: str = "/api/admin/metrics"
) -> Blueprint:
    storage_ref = StorageRef(storage)
    blueprint = Blueprint("pgmetrics_admin", __name__)

    @blueprint.get(path)
    def metrics() -> tuple[Response, int, dict[str, str]]:
        query = admit(request.headers.get("Authorization"), request.args.to_dict(), token)
        if isinstance(query, Refusal):
            return jsonify({"error": query.error}), query.status, dict(query.headers)
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
        return jsonify(answer(query, routes, operations)), 200, {}

    return blueprint
