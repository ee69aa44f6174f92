"""A read adds to the database's rows what this process has not delivered: each event is counted
once even when a batch commits while the read runs, or committed without the process hearing of
it. The moments are forced through tests.proxy.BlackholeProxy, on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pgmetrics import DatabaseMetricsStorage, MetricsReport, OperationMetrics, RouteMetrics
from tests.conftest import Database
from tests.proxy import BlackholeProxy, blackhole_proxy
from tests.stored import operation_totals, route_totals

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


@pytest.fixture
def proxy(db: Database) -> Iterator[BlackholeProxy]:
    with blackhole_proxy("127.0.0.1", db.cluster.port) as running:
        yield running


@pytest.fixture
def storage(db: Database, proxy: BlackholeProxy) -> Iterator[DatabaseMetricsStorage]:
    storage = DatabaseMetricsStorage(
        proxy.dsn(db.dsn),
        batch_interval=3600,
        connect_timeout=3,
        statement_timeout=10,
        retry_initial=0.05,
        retry_max=0.2,
    )
    try:
        yield storage
    finally:
        storage.close(10)


def _record(storage: DatabaseMetricsStorage, count: int) -> None:
    for i in range(count):
        storage.record_route_metric(f"/once/{i % 4}", "GET", i % 5 != 0, 1.0, T0)
        storage.record_operation_metric("once", True, 1.0, T0)


def _routes(report: MetricsReport[RouteMetrics]) -> int:
    assert report.source == "database", report.error
    return sum(row.total_requests for row in report)


def _operations(report: MetricsReport[OperationMetrics]) -> int:
    assert report.source == "database", report.error
    return sum(row.total_executions for row in report)


def test_a_batch_committed_between_the_snapshot_and_the_query_counts_once(
    db: Database, proxy: BlackholeProxy, storage: DatabaseMetricsStorage
) -> None:
    _record(storage, 100)
    assert storage.flush(timeout=10)
    _record(storage, 40)
    # The read's summary query waits at the proxy while the 40 events are delivered.
    delivered: list[bool] = []
    done = proxy.when_sent(
        b"route_metrics_summary", lambda: delivered.append(storage.flush(10)), hold=True
    )
    assert _routes(storage.get_route_metrics(bucket="all")) == 140
    assert done.is_set()
    assert delivered == [True]
    assert sum(total for total, _, _ in route_totals(db.dsn).values()) == 140

    _record(storage, 7)
    done = proxy.when_sent(
        b"operation_metrics_summary", lambda: delivered.append(storage.flush(10)), hold=True
    )
    assert _operations(storage.get_operation_metrics(bucket="all")) == 147
    assert done.is_set()
    assert delivered == [True, True]


def test_a_batch_committed_whose_acknowledgement_was_lost_counts_once(
    db: Database, proxy: BlackholeProxy, storage: DatabaseMetricsStorage
) -> None:
    _record(storage, 60)
    # COMMIT reaches the server; its answer never comes back.
    lost = proxy.when_sent(b"COMMIT", proxy.drop_open, hold=False)
    assert storage.flush(timeout=2) is False
    assert lost.is_set()
    assert storage.pending_batches == 1
    assert operation_totals(db.dsn) == {"once": (60, 0, 60.0)}  # committed all the same
    _record(storage, 5)
    assert _routes(storage.get_route_metrics(bucket="all")) == 65
    assert _operations(storage.get_operation_metrics(bucket="all")) == 65
    assert storage.flush(timeout=10)  # the batch again, under its id: acknowledged, not applied
    assert operation_totals(db.dsn) == {"once": (65, 0, 65.0)}
    assert _routes(storage.get_route_metrics(bucket="all")) == 65


def test_a_batch_not_yet_committed_during_the_read_counts_once(
    db: Database, proxy: BlackholeProxy, storage: DatabaseMetricsStorage
) -> None:
    _record(storage, 30)
    # ingest_batch has run; its COMMIT waits at the proxy while a read runs.
    reads: list[int] = []
    done = proxy.when_sent(
        b"COMMIT",
        lambda: reads.append(_routes(storage.get_route_metrics(bucket="all"))),
        hold=True,
    )
    assert storage.flush(timeout=10)
    assert done.is_set()
    assert reads == [30]
    assert _routes(storage.get_route_metrics(bucket="all")) == 30
