"""The errors pgmetrics reports internally (logged by the flusher, or carried in a report's
``error``); none of them is raised to callers of record or read."""

from __future__ import annotations

import psycopg
import psycopg_pool


class MetricsError(Exception):
    """Base class of pgmetrics' database errors."""


class DatabaseUnavailableError(MetricsError):
    """No connection could be had, or it broke: the call may be retried."""


class SchemaError(MetricsError):
    """The pgmetrics schema is missing, incomplete, or not granted to this role."""


class BatchRejectedError(MetricsError):
    """The database refused a batch as invalid: sending it again cannot succeed."""


def from_psycopg(exc: BaseException) -> MetricsError:
    """The pgmetrics error for a psycopg or psycopg_pool exception."""
    if isinstance(exc, MetricsError):
        return exc
    if isinstance(exc, psycopg.errors.DataError):
        error: MetricsError = BatchRejectedError(str(exc))
    elif isinstance(
        exc,
        psycopg.errors.UndefinedFunction
        | psycopg.errors.InvalidSchemaName
        | psycopg.errors.InsufficientPrivilege,
    ):
        error = SchemaError(str(exc))
    elif isinstance(exc, psycopg_pool.PoolTimeout):
        error = DatabaseUnavailableError(f"no database connection: {exc}")
    else:
        error = DatabaseUnavailableError(str(exc) or type(exc).__name__)
    error.__cause__ = exc
    return error
