"""GET /api/admin/metrics: the framework-neutral part (parameters, token, answer)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pgmetrics.checks import check_bucket, check_method, check_name, check_zone
from pgmetrics.report import row_dict
from pgmetrics.storage import MetricsStorage
from pgmetrics.times import parse_timestamp
from pgmetrics.types import Bucket, MetricsReport, OperationMetrics, RouteMetrics, TimeRange

TOKEN_VARIABLE = "OBSERVABILITY_METRICS_ADMIN_TOKEN"  # noqa: S105 - a variable name
PARAMETERS = ("start", "end", "route", "method", "operation", "bucket", "tz")
DEFAULT_SPAN = timedelta(hours=24)


class BadRequest(ValueError):
    """A malformed query parameter; the message names it."""


@dataclass(frozen=True, slots=True)
class AdminQuery:
    time_range: TimeRange
    bucket: Bucket
    tz: str
    route: str | None = None
    method: str | None = None
    operation: str | None = None


def admin_query(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: object = "hour",
    tz: object = "UTC",
    route: object = None,
    method: object = None,
    operation: object = None,
    now: datetime | None = None,
) -> AdminQuery:
    """The query of a read, checked by the rules recording and the storages apply (ValueError
    naming the bad argument): ``end`` defaults to ``now`` (the current time), ``start`` to 24
    hours before ``end``."""
    if end is None:
        end = now or datetime.now(UTC)
    if start is None:
        try:
            start = end - DEFAULT_SPAN
        except OverflowError:
            raise ValueError("end is too early to default start to 24 hours before it") from None
    check_zone(tz)
    return AdminQuery(
        time_range=TimeRange(start, end),
        bucket=check_bucket(bucket),
        tz=str(tz),
        route=None if route is None else check_name("route", route),
        method=None if method is None else check_method(method),
        operation=None if operation is None else check_name("operation", operation),
    )


def parse_query(params: Mapping[str, str], now: datetime | None = None) -> AdminQuery:
    """The query of the endpoint's parameters, else BadRequest naming the bad one."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"unknown parameter {unknown[0]!r}; known: {', '.join(PARAMETERS)}")
    try:
        times = {
            name: parse_timestamp(name, params[name]) for name in ("start", "end") if name in params
        }
        return admin_query(
            **times,
            bucket=params.get("bucket", "hour"),
            tz=params.get("tz", "UTC"),
            route=params.get("route"),
            method=params.get("method"),
            operation=params.get("operation"),
            now=now,
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def read_metrics(
    storage: MetricsStorage, query: AdminQuery
) -> tuple[MetricsReport[RouteMetrics], MetricsReport[OperationMetrics]]:
    """The route and operation summaries ``query`` asks for."""
    routes = storage.get_route_metrics(
        route=query.route,
        method=query.method,
        time_range=query.time_range,
        bucket=query.bucket,
        tz=query.tz,
    )
    operations = storage.get_operation_metrics(
        operation=query.operation, time_range=query.time_range, bucket=query.bucket, tz=query.tz
    )
    return routes, operations


def configured_token() -> str | None:
    return os.environ.get(TOKEN_VARIABLE) or None


def authorized(authorization: str | None, token: str | None) -> bool:
    """Bearer-token check in constant time; with no token configured nobody is let in."""
    if not token or authorization is None:
        return False
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def answer(
    query: AdminQuery, routes: MetricsReport[Any], operations: MetricsReport[Any]
) -> dict[str, Any]:
    both_database = routes.source == "database" and operations.source == "database"
    return {
        "range": {
            "start": query.time_range.start.isoformat(),
            "end": query.time_range.end.isoformat(),
            "bucket": query.bucket,
            "tz": query.tz,
        },
        "source": "database" if both_database else "memory",
        "error": routes.error or operations.error,
        "routes": [row_dict(row) for row in routes.rows],
        "operations": [row_dict(row) for row in operations.rows],
    }


@dataclass(frozen=True, slots=True)
class Refusal:
    """The answer to a request the endpoint will not serve."""

    status: int
    error: str
    headers: tuple[tuple[str, str], ...] = ()


def admit(
    authorization: str | None, params: Mapping[str, str], token: str | None
) -> AdminQuery | Refusal:
    """The query of an authorised, well-formed request, or why it is refused: 403 while no
    token is configured (``token`` or OBSERVABILITY_METRICS_ADMIN_TOKEN), 401 for a missing or
    wrong token, 400 for a malformed parameter."""
    expected = token if token is not None else configured_token()
    if not expected:
        return Refusal(403, f"the admin endpoint is disabled: set {TOKEN_VARIABLE}")
    if not authorized(authorization, expected):
        challenge = (("WWW-Authenticate", 'Bearer realm="pgmetrics"'),)
        return Refusal(401, "missing or invalid bearer token", challenge)
    try:
        return parse_query(params)
    except BadRequest as exc:
        return Refusal(400, str(exc))
