"""GET /api/admin/metrics: the framework-neutral part (parameters, token, answer)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pgmetrics.aggregate import check_method, check_name
from pgmetrics.report import row_dict
from pgmetrics.types import BUCKETS, Bucket, MetricsReport, TimeRange

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


def _timestamp(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO-8601 timestamp, got {value[:64]!r}") from None
    # A timestamp without an offset is read as UTC, the zone every bucket is stored in.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _checked(check: Callable[..., str], *args: object) -> str:
    """A name or method checked by the rules recording applies, as a bad request."""
    try:
        return check(*args)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _optional_name(name: str, value: str | None) -> str | None:
    return None if value is None else _checked(check_name, name, value)


def parse_query(params: Mapping[str, str], now: datetime | None = None) -> AdminQuery:
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"unknown parameter {unknown[0]!r}; known: {', '.join(PARAMETERS)}")
    end = _timestamp("end", params["end"]) if "end" in params else (now or datetime.now(UTC))
    try:
        start = _timestamp("start", params["start"]) if "start" in params else end - DEFAULT_SPAN
    except OverflowError:
        raise BadRequest("end is too early to default start to 24 hours before it") from None
    if start > end:
        raise BadRequest("start must not be after end")
    bucket = params.get("bucket", "hour")
    if bucket not in BUCKETS:
        raise BadRequest(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket[:32]!r}")
    tz = params.get("tz", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"tz must be an IANA time zone name, got {tz[:64]!r}") from None
    method = params.get("method")
    return AdminQuery(
        time_range=TimeRange(start, end),
        bucket=bucket,
        tz=tz,
        route=_optional_name("route", params.get("route")),
        method=None if method is None else _checked(check_method, method),
        operation=_optional_name("operation", params.get("operation")),
    )


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
