"""The database storage against a real cluster: delivery, exactly once, restarts, fork, killed
connections, reads, and parity with the memory storage."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from devtools.localcluster import LocalCluster
from pgmetrics import DatabaseMetricsStorage, MemoryMetricsStorage, MetricsStorage, TimeRange
from pgmetrics.histogram import Histogram
from tests.conftest import Database
from tests.stored import (
    OPERATION_SUMMARY,
    ROUTE_SUMMARY,
    operation_totals,
    route_totals,
    run_script,
    summary_function_exists,
)

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


@pytest.fixture
def storage(db: Database) -> Iterator[DatabaseMetricsStorage]:
    storage = DatabaseMetricsStorage(
        db.dsn, batch_interval=3600, retry_initial=0.01, retry_max=0.2, connect_timeout=5
    )
    try:
        yield storage
    finally:
        storage.close(timeout=10)


def test_flush_delivers_one_batch(db: Database, storage: DatabaseMetricsStorage) -> None:
    storage.record_route_metric("/users/{id}", "get", True, 10.0, at=T0)
    storage.record_route_metric("/users/{id}", "GET", False, 30.5, at=T0 + timedelta(minutes=5))
    storage.record_route_metric("/users/{id}", "GET", True, 2.0, at=T0 + timedelta(hours=1))
    storage.record_operation_metric("send_email", True, 120.0, at=T0)
    assert storage.flush(timeout=10) is True
    assert storage.pending_batches == 0
    with db.connect() as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        rows = conn.execute(
            "SELECT route, method, period_start, total_requests, successful, failed, "
            "total_duration_ms, min_duration_ms, max_duration_ms, last_request_at "
            "FROM pgmetrics.route_metrics ORDER BY period_start"
        ).fetchall()
        batches = conn.execute(
            "SELECT route_cells, operation_cells FROM pgmetrics.ingested_batches"
        ).fetchall()
    assert rows == [
        ("/users/{id}", "GET", datetime(2026, 3, 2, 10, tzinfo=UTC), 2, 1, 1, 40.5, 10.0, 30.5,
         T0 + timedelta(minutes=5)),
        ("/users/{id}", "GET", datetime(2026, 3, 2, 11, tzinfo=UTC), 1, 1, 0, 2.0, 2.0, 2.0,
         T0 + timedelta(hours=1)),
    ]  # fmt: skip
    assert batches == [(2, 1)]
    assert operation_totals(db.dsn) == {"send_email": (1, 0, 120.0)}
    assert storage.flush() is True  # nothing new: no batch sent
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pgmetrics.ingested_batches").fetchone() == (1,)


def test_flusher_thread_sends_every_interval(db: Database) -> None:
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=0.05)
    try:
        for _ in range(10):
            storage.record_operation_metric("tick", True, 1.0)
        deadline = time.monotonic() + 10
        while operation_totals(db.dsn).get("tick") != (10, 0, 10.0):
            assert time.monotonic() < deadline, "the flusher thread sent nothing"
            time.sleep(0.05)
    finally:
        storage.close()


_CELL = {
    "r": "/again",
    "m": "GET",
    "h": "2026-03-02T10:00:00+00:00",
    "n": 3,
    "s": 2,
    "f": 1,
    "d": 6.0,
    "lo": 1.0,
    "hi": 3.0,
    "t": "2026-03-02T10:20:00+00:00",
    **Histogram.of([1.0, 2.0, 3.0]).to_json(),
}


def test_repeated_batch_id_changes_nothing(db: Database) -> None:
    batch_id = uuid.uuid4()
    with db.connect() as conn:
        results = [
            conn.execute(
                "SELECT pgmetrics.ingest_batch(%s, %s, NULL)", (batch_id, Jsonb([_CELL]))
            ).fetchone()
            for _ in range(3)
        ]
    assert results == [(True,), (False,), (False,)]
    assert route_totals(db.dsn) == {"/again": (3, 1, 6.0)}


def test_concurrent_calls_with_one_batch_id_apply_once(db: Database) -> None:
    batch_id = uuid.uuid4()
    second: list[object] = []
    with psycopg.connect(db.dsn) as first:
        assert first.execute(
            "SELECT pgmetrics.ingest_batch(%s, %s, NULL)", (batch_id, Jsonb([_CELL]))
        ).fetchone() == (True,)

        def concurrent() -> None:
            with db.connect() as conn:
                row = conn.execute(
                    "SELECT pgmetrics.ingest_batch(%s, %s, NULL)", (batch_id, Jsonb([_CELL]))
                ).fetchone()
                second.append(row)

        thread = threading.Thread(target=concurrent)
        thread.start()
        with db.connect() as observer:
            deadline = time.monotonic() + 30
            while observer.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone() != (1,):
                assert time.monotonic() < deadline, "the second call never waited on a lock"
                time.sleep(0.01)
        assert second == [], "the second call waits for the first transaction"
        first.commit()
        thread.join(10)
    assert second == [(False,)]
    assert route_totals(db.dsn) == {"/again": (3, 1, 6.0)}


_PROCESS = """
    import sys
    from pgmetrics import DatabaseMetricsStorage

    dsn, mode = sys.argv[1], sys.argv[2]
    storage = DatabaseMetricsStorage(dsn, batch_interval=3600, shutdown_timeout=30)
    for i in range(5000):
        storage.record_route_metric("/restart", "GET", i % 4 != 0, 1.0)
        storage.record_operation_metric("restart", True, 0.5)
    if mode == "close":
        storage.close()
    # otherwise interpreter exit delivers what is left
"""


def test_totals_add_up_across_process_restarts(db: Database, tmp_path: Path) -> None:
    run_script(tmp_path, "first", _PROCESS, db.dsn, "atexit")
    assert route_totals(db.dsn) == {"/restart": (5000, 1250, 5000.0)}
    run_script(tmp_path, "second", _PROCESS, db.dsn, "close")
    assert route_totals(db.dsn) == {"/restart": (10000, 2500, 10000.0)}
    assert operation_totals(db.dsn) == {"restart": (10000, 0, 5000.0)}


_AFTER_CLOSE = """
    import sys
    from pgmetrics import DatabaseMetricsStorage

    storage = DatabaseMetricsStorage(sys.argv[1], batch_interval=3600)
    storage.record_route_metric("/before-close", "GET", True, 1.0)
    storage.close()
    # Accepted after close(): delivered when the interpreter exits.
    storage.record_route_metric("/after-close", "GET", True, 2.0)
    storage.record_operation_metric("after-close", False, 3.0)
"""


def test_records_after_close_are_delivered_at_exit(db: Database, tmp_path: Path) -> None:
    run_script(tmp_path, "after_close", _AFTER_CLOSE, db.dsn)
    assert route_totals(db.dsn) == {"/before-close": (1, 0, 1.0), "/after-close": (1, 0, 2.0)}
    assert operation_totals(db.dsn) == {"after-close": (1, 1, 3.0)}


_FORK = """
    import os, sys
    from pgmetrics import DatabaseMetricsStorage

    storage = DatabaseMetricsStorage(sys.argv[1], batch_interval=0.05)
    for _ in range(1000):
        storage.record_route_metric("/parent", "GET", True, 1.0)
    pid = os.fork()
    if pid == 0:
        # The parent's unflushed 1000 events stay with the parent.
        for _ in range(500):
            storage.record_route_metric("/child", "POST", True, 2.0)
        storage.close()
        os._exit(0)
    for _ in range(300):
        storage.record_route_metric("/parent", "GET", False, 1.0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    storage.close()
"""


def test_fork_counts_nothing_twice(db: Database, tmp_path: Path) -> None:
    run_script(tmp_path, "fork", _FORK, db.dsn)
    assert route_totals(db.dsn) == {"/parent": (1300, 300, 1300.0), "/child": (500, 0, 1000.0)}


def _backends(cluster: LocalCluster, dbname: str, stop: threading.Event, kills: list[int]) -> None:
    rng = random.Random(4)
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        while not stop.is_set():
            time.sleep(rng.uniform(0.02, 0.2))
            # Established connections only: one killed while it starts up sends the pool into
            # its own reconnection backoff, which tests the pool rather than pgmetrics.
            row = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND state IS NOT NULL",
                (dbname,),
            ).fetchone()
            kills.append(int(row[0]) if row else 0)


@pytest.mark.slow
def test_exact_totals_when_connections_are_killed(db: Database) -> None:
    storage = DatabaseMetricsStorage(
        db.dsn, batch_interval=3600, retry_initial=0.002, retry_max=0.01, connect_timeout=10
    )
    stop = threading.Event()
    kills: list[int] = []
    killer = threading.Thread(target=_backends, args=(db.cluster, db.name, stop, kills))
    killer.start()
    try:
        for flush in range(100):
            for i in range(50):
                storage.record_route_metric(f"/kill/{i % 7}", "GET", i % 5 != 0, 2.0)
                storage.record_operation_metric(f"kill{flush % 3}", True, 1.0)
            assert storage.flush(timeout=60), f"flush {flush} did not deliver"
            time.sleep(random.uniform(0, 0.03))
    finally:
        stop.set()
        killer.join()
        storage.close()
    assert sum(kills) > 0, "no connection was killed"
    totals = route_totals(db.dsn)
    assert sum(t[0] for t in totals.values()) == 5000
    assert sum(t[1] for t in totals.values()) == 1000
    assert sum(t[2] for t in totals.values()) == 10000.0
    assert sum(t[0] for t in operation_totals(db.dsn).values()) == 5000


def test_unreachable_database_never_raises(tmp_path: Path) -> None:
    storage = DatabaseMetricsStorage(
        "host=127.0.0.1 port=9 dbname=nowhere connect_timeout=1",
        connect_timeout=0.2,
        read_timeout=0.2,
        retry_initial=0.05,
    )
    storage.record_route_metric("/offline", "GET", True, 4.0, at=T0)
    storage.record_operation_metric("offline", False, 1.0, at=T0)
    report = storage.get_route_metrics()
    assert report.source == "memory"
    assert report.error
    assert [(r.route, r.total_requests) for r in report.rows] == [("/offline", 1)]
    operations = storage.get_operation_metrics(bucket="all")
    assert (operations.source, operations.rows[0].failed) == ("memory", 1)
    assert storage.flush() is False
    assert storage.flush(timeout=0.5) is False
    assert storage.pending_batches == 1
    storage.close(timeout=0.3)


def _scenario(storage: MetricsStorage) -> None:
    for i in range(40):
        at = T0 + timedelta(minutes=37 * i)
        storage.record_route_metric("/users/{id}", "GET", i % 6 != 0, float(i % 9), at=at)
        storage.record_route_metric("/orders", "post", True, 1.5 * i, at=at)
        storage.record_operation_metric("send_email", i % 4 != 0, float(i), at=at)


def _comparable(rows: tuple[object, ...]) -> list[tuple[object, ...]]:
    keep = []
    for row in rows:
        values = dict(row.__dict__ if hasattr(row, "__dict__") else _fields(row))
        for name in ("p50_duration_ms", "p95_duration_ms", "p99_duration_ms"):
            values.pop(name)
        keep.append(tuple(sorted(values.items())))
    return keep


def _fields(row: object) -> dict[str, object]:
    return {name: getattr(row, name) for name in row.__slots__}  # type: ignore[attr-defined]


@pytest.mark.parametrize("bucket", ["hour", "day", "week", "all"])
def test_parity_with_the_memory_storage(db: Database, bucket: str) -> None:
    memory = MemoryMetricsStorage()
    _scenario(memory)
    time_range = TimeRange(T0 + timedelta(hours=2), T0 + timedelta(hours=20))
    expected_routes = memory.get_route_metrics(
        time_range=time_range, bucket=bucket, tz="Asia/Kolkata"
    )
    expected_operations = memory.get_operation_metrics(bucket=bucket, tz="America/New_York")
    assert expected_routes.rows
    assert expected_operations.rows
    if not summary_function_exists(db.dsn, ROUTE_SUMMARY):
        pytest.skip("pgmetrics.route_metrics_summary is not deployed")

    database = DatabaseMetricsStorage(db.dsn, batch_interval=3600)
    try:
        _scenario(database)
        assert database.flush(timeout=10)
        routes = database.get_route_metrics(time_range=time_range, bucket=bucket, tz="Asia/Kolkata")
        assert routes.source == "database", routes.error
        assert _comparable(routes.rows) == _comparable(expected_routes.rows)
        if summary_function_exists(db.dsn, OPERATION_SUMMARY):
            operations = database.get_operation_metrics(bucket=bucket, tz="America/New_York")
            assert operations.source == "database", operations.error
            assert _comparable(operations.rows) == _comparable(expected_operations.rows)
    finally:
        database.close()


def test_database_reads_add_what_is_not_flushed(db: Database) -> None:
    if not summary_function_exists(db.dsn, ROUTE_SUMMARY):
        pytest.skip("pgmetrics.route_metrics_summary is not deployed")
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600)
    try:
        storage.record_route_metric("/mixed", "GET", True, 2.0, at=T0)
        assert storage.flush(timeout=10)
        storage.record_route_metric("/mixed", "GET", False, 8.0, at=T0)
        storage.record_route_metric("/fresh", "GET", True, 1.0, at=T0)
        report = storage.get_route_metrics(bucket="all")
        assert report.source == "database", report.error
        rows = {r.route: r for r in report.rows}
        assert (rows["/mixed"].total_requests, rows["/mixed"].failed) == (2, 1)
        assert (rows["/mixed"].min_duration_ms, rows["/mixed"].max_duration_ms) == (2.0, 8.0)
        assert rows["/fresh"].total_requests == 1
    finally:
        storage.close()


def test_concurrent_flushers_of_the_same_keys_neither_deadlock_nor_lose(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    storages = [DatabaseMetricsStorage(db.dsn, batch_interval=3600) for _ in range(4)]
    failures: list[str] = []

    def work(storage: DatabaseMetricsStorage, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(20):
            for i in rng.sample(range(60), 60):  # the same keys, in a different order each time
                storage.record_route_metric(f"/shared/{i}", "GET", True, 1.0)
                storage.record_operation_metric(f"shared{i}", True, 1.0)
            if not storage.flush(timeout=30):
                failures.append(f"storage {seed} did not deliver")

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(storages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for storage in storages:
        storage.close()
    assert failures == []
    assert [r.getMessage() for r in caplog.records if r.name == "pgmetrics"] == []  # no retry
    assert route_totals(db.dsn) == {f"/shared/{i}": (80, 0, 80.0) for i in range(60)}
    assert operation_totals(db.dsn) == {f"shared{i}": (80, 0, 80.0) for i in range(60)}
