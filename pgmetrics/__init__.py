"""Persistent route and operation metrics in PostgreSQL."""

from pgmetrics.api import (
    configure,
    flush,
    from_env,
    get_operation_metrics,
    get_route_metrics,
    get_storage,
    record_operation_metric,
    record_route_metric,
)
from pgmetrics.database import DatabaseMetricsStorage
from pgmetrics.memory import MemoryMetricsStorage
from pgmetrics.storage import MetricsStorage
from pgmetrics.track import track_operation
from pgmetrics.types import Bucket, MetricsReport, OperationMetrics, RouteMetrics, TimeRange

__version__ = "0.7.0"

__all__ = [
    "Bucket",
    "DatabaseMetricsStorage",
    "MemoryMetricsStorage",
    "MetricsReport",
    "MetricsStorage",
    "OperationMetrics",
    "RouteMetrics",
    "TimeRange",
    "__version__",
    "configure",
    "flush",
    "from_env",
    "get_operation_metrics",
    "get_route_metrics",
    "get_storage",
    "record_operation_metric",
    "record_route_metric",
    "track_operation",
]
