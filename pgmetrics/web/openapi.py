"""OpenAPI 3.1 description of GET /api/admin/metrics."""

from __future__ import annotations

from typing import Any

from pgmetrics.checks import BUCKETS

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_COMMON_ROW = {
    "bucket_start": {"type": "string", "format": "date-time"},
    "successful": {"type": "integer"},
    "failed": {"type": "integer"},
    "error_rate": {"type": "number", "minimum": 0, "maximum": 1},
    "total_duration_ms": {"type": "number"},
    "average_duration_ms": {"type": "number"},
    "min_duration_ms": {"type": "number"},
    "max_duration_ms": {"type": "number"},
    "p50_duration_ms": _NUMBER_OR_NULL,
    "p95_duration_ms": _NUMBER_OR_NULL,
    "p99_duration_ms": _NUMBER_OR_NULL,
}


def _parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_ERROR = {
    "description": "",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            }
        }
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "pgmetrics admin", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "RouteMetrics": {
                "type": "object",
                "properties": {
                    "route": {"type": "string"},
                    "method": {"type": "string"},
                    "total_requests": {"type": "integer"},
                    "last_request_at": {"type": "string", "format": "date-time"},
                    **_COMMON_ROW,
                },
            },
            "OperationMetrics": {
                "type": "object",
                "properties": {
                    "operation": {"type": "string"},
                    "total_executions": {"type": "integer"},
                    "last_execution_at": {"type": "string", "format": "date-time"},
                    **_COMMON_ROW,
                },
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/admin/metrics": {
            "get": {
                "summary": "Route and operation metrics of a time range",
                "parameters": [
                    _parameter(
                        "start",
                        "inclusive start, ISO-8601 (default: end - 24 h)",
                        format="date-time",
                    ),
                    _parameter("end", "exclusive end, ISO-8601 (default: now)", format="date-time"),
                    _parameter("route", "route template, e.g. /users/{id}"),
                    _parameter("method", "HTTP method, any case"),
                    _parameter("operation", "operation name"),
                    _parameter("bucket", "bucket size", enum=list(BUCKETS)),
                    _parameter("tz", "IANA time zone of day and week buckets (default UTC)"),
                ],
                "responses": {
                    "200": {
                        "description": "summaries; source says whether they came from the database",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "range": {"type": "object"},
                                        "source": {"enum": ["database", "memory"]},
                                        "error": {"type": ["string", "null"]},
                                        "routes": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/RouteMetrics"},
                                        },
                                        "operations": {
                                            "type": "array",
                                            "items": {
                                                "$ref": "#/components/schemas/OperationMetrics"
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "400": {**_ERROR, "description": "a malformed parameter, named in error"},
                    "401": {**_ERROR, "description": "missing or wrong bearer token"},
                    "403": {
                        **_ERROR,
                        "description": "no admin token configured: endpoint disabled",
                    },
                },
            }
        }
    },
}
