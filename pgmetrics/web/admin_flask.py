"""The admin endpoint as a Flask blueprint: ``app.register_blueprint(admin_blueprint())``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from pgmetrics.api import StorageRef
from pgmetrics.storage import MetricsStorage
from pgmetrics.web.admin import Refusal, admit, answer, read_metrics


def admin_blueprint(
    storage: MetricsStorage | None = None,
    *,
    token: str | None = None,
    path: str = "/api/admin/metrics",
) -> Blueprint:
    storage_ref = StorageRef(storage)
    blueprint = Blueprint("pgmetrics_admin", __name__)

    @blueprint.get(path)
    def metrics() -> tuple[Response, int, dict[str, str]]:
        query = admit(request.headers.get("Authorization"), request.args.to_dict(), token)
        if isinstance(query, Refusal):
            return jsonify({"error": query.error}), query.status, dict(query.headers)
        routes, operations = read_metrics(storage_ref.storage, query)
        return jsonify(answer(query, routes, operations)), 200, {}

    return blueprint
