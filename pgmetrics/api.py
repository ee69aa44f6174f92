"""The module-level storage and the functions that use it (``pgmetrics.record_route_metric``...)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime

from pgmetrics.config import load_settings
from pgmetrics.database import DatabaseMetricsStorage
from pgmetrics.memory import MemoryMetricsStorage
from pgmetrics.storage import MetricsStorage
from pgmetrics.types import Bucket, MetricsReport, OperationMetrics, RouteMetrics, TimeRange

_lock = threading.Lock()
_storage: MetricsStorage | None = None


def from_env(environ: Mapping[str, str] | None = None) -> MetricsStorage:
    """A new storage as the OBSERVABILITY_METRICS_* variables describe (memory by default).
    ValueError, naming the variable, when one is malformed. Never connects."""
    settings = load_settings(environ)
    if settings.storage == "database":
        assert settings.database_url is not None  # noqa: S101 - load_settings checked it
        return DatabaseMetricsStorage(
            settings.database_url,
            read_database=settings.read_database_url,
            batch_interval=settings.batch_interval,
            max_keys=settings.max_keys,
            shutdown_timeout=settings.shutdown_timeout,
            max_cells=settings.max_cells,
            max_batch_cells=settings.max_batch_cells,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            statement_timeout=settings.statement_timeout,
            tcp_user_timeout=settings.tcp_user_timeout,
            keepalives_idle=settings.keepalives_idle,
            keepalives_interval=settings.keepalives_interval,
            keepalives_count=settings.keepalives_count,
            spool_dir=settings.spool_dir,
            spool_max_bytes=settings.spool_max_bytes,
        )
    return MemoryMetricsStorage(max_keys=settings.max_keys)


def get_storage() -> MetricsStorage:
    """The module-level storage, built by ``from_env()`` at the first use."""
    storage = _storage
    if storage is None:
        with _lock:
            if _storage is None:
                configure(from_env())
            storage = _storage
    assert storage is not None  # noqa: S101 - set just above
    return storage


def configure(storage: MetricsStorage | None) -> MetricsStorage | None:
    """Sets the module-level storage (``None``: build it from the environment at the next use).
    Returns the previous one, which the caller may close; it is not closed here."""
    global _storage
    previous, _storage = _storage, storage
    return previous


def check_environment() -> None:
    """ValueError naming the variable when the module-level storage is still to be built and an
    OBSERVABILITY_METRICS_* variable is malformed: what builds an app or decorates a function
    calls it, so that a bad setting stops the start, not each request or call later."""
    if _storage is None:
        load_settings()


class StorageRef:
    """A storage given by the caller, or the module-level one, resolved at the first use rather
    than at construction: an application may configure pgmetrics after building its app."""

    def __init__(self, storage: MetricsStorage | None) -> None:
        self._storage = storage

    @property
    def storage(self) -> MetricsStorage:
        if self._storage is None:
            self._storage = get_storage()
        return self._storage


def record_route_metric(
    route: str, method: str, success: bool, duration_ms: float, at: datetime | None = None
) -> None:
    get_storage().record_route_metric(route, method, success, duration_ms, at)


def record_operation_metric(
    operation: str, success: bool, duration_ms: float, at: datetime | None = None
) -> None:
    get_storage().record_operation_metric(operation, success, duration_ms, at)


def get_route_metrics(
    route: str | None = None,
    method: str | None = None,
    time_range: TimeRange | None = None,
    bucket: Bucket = "hour",
    tz: str = "UTC",
) -> MetricsReport[RouteMetrics]:
    return get_storage().get_route_metrics(route, method, time_range, bucket, tz)


def get_operation_metrics(
    operation: str | None = None,
    time_range: TimeRange | None = None,
    bucket: Bucket = "hour",
    tz: str = "UTC",
) -> MetricsReport[OperationMetrics]:
    return get_storage().get_operation_metrics(operation, time_range, bucket, tz)


def flush(timeout: float | None = None) -> bool:
    return get_storage().flush(timeout)
