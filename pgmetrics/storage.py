"""The protocol every metrics storage implements, and the base both of pgmetrics' storages
build on."""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from pgmetrics.aggregator import Aggregator
from pgmetrics.checks import ReadFilter, check_operation_read, check_route_read
from pgmetrics.types import Bucket, MetricsReport, OperationMetrics, RouteMetrics, TimeRange


@runtime_checkable
class MetricsStorage(Protocol):
    """Records route and operation metrics and reads summaries of them.

    Recording aggregates in memory and never blocks on the database; invalid arguments raise
    ValueError. Reads never raise for a database problem: the report says where it came from.
    """

    def record_route_metric(
        self,
        route: str,
        method: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None: ...

    def record_operation_metric(
        self,
        operation: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None: ...

    def get_route_metrics(
        self,
        route: str | None = None,
        method: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[RouteMetrics]: ...

    def get_operation_metrics(
        self,
        operation: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[OperationMetrics]: ...

    async def aget_route_metrics(
        self,
        route: str | None = None,
        method: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[RouteMetrics]: ...

    async def aget_operation_metrics(
        self,
        operation: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[OperationMetrics]: ...

    def flush(self, timeout: float | None = None) -> bool:
        """Delivers what was recorded; True when nothing is left pending."""
        ...

    def close(self, timeout: float | None = None) -> None:
        """Flushes what is left (retrying up to ``timeout`` seconds) and stops."""
        ...


class BaseMetricsStorage:
    """Recording into an ``Aggregator`` and the checks of every read's arguments, the same for
    each storage; a storage supplies ``_aggregator`` and answers the checked reads. The awaitable
    reads run the synchronous ones in a worker thread, so that an event loop never waits on the
    database."""

    _aggregator: Aggregator
    # Set by a storage whose close() must hear of a record that comes after it.
    _closed: bool

    def record_route_metric(
        self,
        route: str,
        method: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None:
        self._aggregator.record_route(route, method, success, duration_ms, at)
        if self._closed:
            self._recorded_after_close()

    def record_operation_metric(
        self,
        operation: str,
        success: bool,
        duration_ms: float,
        at: datetime | None = None,
    ) -> None:
        self._aggregator.record_operation(operation, success, duration_ms, at)
        if self._closed:
            self._recorded_after_close()

    def _recorded_after_close(self) -> None:
        """What a record after ``close()`` sets in motion; nothing by default."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self, timeout: float | None = None) -> None:
        raise NotImplementedError

    @property
    def overflowed_events(self) -> int:
        """Events counted under ``__overflow__`` because their key was past the cap."""
        return self._aggregator.limiter.overflowed_events

    def get_route_metrics(
        self,
        route: str | None = None,
        method: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[RouteMetrics]:
        return self._route_report(check_route_read(route, method, time_range, bucket, tz))

    def get_operation_metrics(
        self,
        operation: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[OperationMetrics]:
        return self._operation_report(check_operation_read(operation, time_range, bucket, tz))

    async def aget_route_metrics(
        self,
        route: str | None = None,
        method: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[RouteMetrics]:
        return await asyncio.to_thread(
            self.get_route_metrics, route, method, time_range, bucket, tz
        )

    async def aget_operation_metrics(
        self,
        operation: str | None = None,
        time_range: TimeRange | None = None,
        bucket: Bucket = "hour",
        tz: str = "UTC",
    ) -> MetricsReport[OperationMetrics]:
        return await asyncio.to_thread(
            self.get_operation_metrics, operation, time_range, bucket, tz
        )

    def _route_report(self, read: ReadFilter) -> MetricsReport[RouteMetrics]:
        raise NotImplementedError

    def _operation_report(self, read: ReadFilter) -> MetricsReport[OperationMetrics]:
        raise NotImplementedError
