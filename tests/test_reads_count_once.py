"""A read adds to the database's rows what this process has not delivered: each event is counted
once even when a batch commits while the read runs, or committed without the process hearing of
it. The moments are forced through tests.proxy.BlackholeProxy, on a real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from psycopg import sql

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


def test_an_application_role_of_writer_and_reader_counts_once(db: Database) -> None:
    # The storage asks about transaction ids with catalog functions any role may call:
    # pgmetrics.ingested_batches is not readable by pgmetrics_writer or pgmetrics_reader.
    role = f"app_{uuid.uuid4().hex[:12]}"
    with db.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("GRANT pgmetrics_writer, pgmetrics_reader TO {}").format(sql.Identifier(role))
        )
    try:
        with blackhole_proxy("127.0.0.1", db.cluster.port) as proxy:
            storage = DatabaseMetricsStorage(
                proxy.dsn(db.cluster.dsn(db.name, user=role)),
                batch_interval=3600,
                connect_timeout=3,
                retry_initial=0.05,
            )
            try:
                _record(storage, 20)
                proxy.when_sent(b"COMMIT", proxy.drop_open, hold=False)
                assert storage.flush(timeout=2) is False  # committed, acknowledgement lost
                assert _routes(storage.get_route_metrics(bucket="all")) == 20
                assert storage.flush(timeout=10)
            finally:
                storage.close(5)
    finally:
        with db.connect() as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert operation_totals(db.dsn) == {"once": (20, 0, 20.0)}
