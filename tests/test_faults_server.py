"""Faults of the server: the database stops and starts again under load, stays away longer than
a connection pool's backoff, or is missing while a million distinct routes are recorded. Totals
stay exact and memory stays bounded.

A file of its own because stopping a server needs a cluster of the module's own (stopping the
session's would fail every test running beside it); conftest.py keeps the tests that share it on
one xdist worker."""

from __future__ import annotations

import gc
import logging
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from devtools.localcluster import LocalCluster
from pgmetrics import DatabaseMetricsStorage
from pgmetrics.cells import OVERFLOW
from tests.conftest import Database, create_missing, restore_deployed
from tests.stored import operation_totals, route_totals

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
EVENTS = 120_000


@pytest.fixture(scope="module")
def own_cluster(saved_template: Path) -> Iterator[LocalCluster]:
    """A cluster of this module alone, so that stopping it leaves the cluster the other tests
    share alone. Commits are synchronous (an acknowledged commit survives the server's crash);
    fsync stays off (the machine does not crash)."""
    with LocalCluster(durable=False, settings={"synchronous_commit": "on"}) as cluster:
        restore_deployed(cluster, "outage", saved_template)
        yield cluster


def _expected() -> dict[str, tuple[int, int, float]]:
    expected: dict[str, list[float]] = {}
    for i in range(EVENTS):
        totals = expected.setdefault(f"/outage/{i % 50}", [0, 0, 0.0])
        totals[0] += 1
        totals[1] += i % 7 == 0
        totals[2] += float(i % 13)
    return {route: (int(t[0]), int(t[1]), t[2]) for route, t in expected.items()}


@pytest.mark.slow
def test_database_restart_during_load_loses_and_doubles_nothing(own_cluster: LocalCluster) -> None:
    dsn = own_cluster.dsn("outage")
    storage = DatabaseMetricsStorage(
        dsn,
        batch_interval=0.05,
        retry_initial=0.05,
        retry_max=0.5,
        connect_timeout=1.0,
        read_timeout=0.5,
    )
    methods = ("GET", "POST", "delete")

    def load() -> None:
        for i in range(EVENTS):
            storage.record_route_metric(f"/outage/{i % 50}", methods[i % 3], i % 7 != 0, i % 13)
            storage.record_operation_metric("outage", True, 1.0)
            if i % 2000 == 0:
                time.sleep(0.05)  # spread the load over the outage

    thread = threading.Thread(target=load)
    thread.start()
    try:
        time.sleep(0.5)
        own_cluster.stop("immediate")
        time.sleep(0.3)
        during = storage.get_route_metrics(bucket="all")
        assert during.source == "memory"
        assert during.error
        time.sleep(0.7)
        own_cluster.start()
        thread.join()
        assert storage.flush(timeout=90), "the batches were not delivered after the restart"
    finally:
        thread.join()
        storage.close(timeout=30)
    assert route_totals(dsn) == _expected()
    assert operation_totals(dsn) == {"outage": (EVENTS, 0, float(EVENTS))}
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT sum(route_cells) > 0, count(*) FROM pgmetrics.ingested_batches"
        ).fetchone()
    assert row is not None
    assert row[0] is True


def _traced() -> int:
    """Bytes still alive that pgmetrics, or this test's route names, allocated since tracing
    started. The pool's own bookkeeping of failed connection attempts grows with the length of
    the outage (one waiter per attempt), not with the events, and is left out."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, "*/pgmetrics/*"), tracemalloc.Filter(True, __file__)]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


@pytest.mark.slow
def test_a_million_routes_during_an_outage_keep_memory_flat(
    missing_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # pytest keeps every log record it captures; the failed sends' warnings would grow with the
    # outage's wall-clock length (longer on a loaded machine), not with the storage's memory.
    caplog.set_level(logging.ERROR, logger="pgmetrics")
    # The database does not exist yet: every send fails until it is created.
    storage = DatabaseMetricsStorage(
        missing_database.dsn,
        batch_interval=0.05,
        connect_timeout=0.1,
        retry_initial=0.05,
        retry_max=0.2,
        max_keys=1000,
    )
    # Tracing every allocation is slow: it covers the last 200,000 routes, by which time the cap
    # has long been reached, and the memory they leave behind must not grow with their number.
    try:
        for i in range(1_000_000):
            if i == 800_000:
                tracemalloc.start()
            elif i == 850_000:
                baseline = _traced()
            storage.record_route_metric(f"/m/{i}", "GET", i % 10 != 0, 1.0, at=T0)
        after = _traced()
    finally:
        tracemalloc.stop()
    assert after - baseline < 100_000, f"memory grew by {after - baseline} bytes"
    assert storage.overflowed_events == 999_000
    assert storage.pending_batches <= 1

    create_missing(missing_database)
    try:
        assert storage.flush(timeout=60)
        storage.close()
        totals = route_totals(missing_database.dsn)
        assert totals.pop(OVERFLOW) == (999_000, 99_900, 999_000.0)
        assert len(totals) == 1000
        assert set(totals.values()) == {(1, 0, 1.0)} | {(1, 1, 1.0)}
    finally:
        storage.close(timeout=1)


@pytest.mark.slow
def test_delivery_resumes_at_once_after_a_long_outage(own_cluster: LocalCluster) -> None:
    """A connection pool retries a dead server with growing delays (1, 2, 4, 8, 16 s...): after
    a long outage its next attempt may come long after the database is back, and a process
    exiting in between would lose what it held. The storage's own backoff must set the pace."""
    dsn = own_cluster.dsn("outage")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE pgmetrics.route_metrics, pgmetrics.operation_metrics")
    storage = DatabaseMetricsStorage(dsn, batch_interval=0.2, retry_initial=0.2, retry_max=1.0)
    try:
        storage.record_route_metric("/before", "GET", True, 1.0)
        assert storage.flush(timeout=10)
        own_cluster.stop("immediate")
        storage.record_route_metric("/during", "GET", True, 1.0)
        time.sleep(20)  # long enough for the pool's own delays to reach 8 and 16 s
        own_cluster.start()
        storage.record_route_metric("/after", "GET", True, 1.0)
        assert storage.flush(timeout=6), "not delivered within 6 s of the database's return"
    finally:
        storage.close(timeout=10)
    assert route_totals(dsn) == {
        "/before": (1, 0, 1.0),
        "/during": (1, 0, 1.0),
        "/after": (1, 0, 1.0),
    }
