"""Direct SQL recording on hot keys: exact under concurrency with batches and folds, and
durable across a crash of the server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from devtools.localcluster import LocalCluster
from pgmetrics.histogram import Histogram
from tests.conftest import Database, restore_deployed

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
ROUTES = ("/hot", "/warm", "/cold")
CLIENTS = 16
ROUNDS = 60


def _direct(dsn: str, index: int, errors: list[BaseException]) -> None:
    """One call per route and round, autocommit: the way psql or another language calls it."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for i in range(ROUNDS):
                for route in ROUTES:
                    conn.execute(
                        "SELECT pgmetrics.record_route_metric(%s, 'GET', %s, %s, %s)",
                        (route, i % 5 != 0, 2.0, T0),
                    )
                conn.execute(
                    "SELECT pgmetrics.record_operation_metric('hot', true, 1.0, %s)", (T0,)
                )
                if index == 0 and i % 10 == 0:
                    conn.execute("SELECT pgmetrics.fold_events()")
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def _batches(dsn: str, index: int, errors: list[BaseException]) -> None:
    """Batches of the Python client's shape, each with 10 requests per route (2 failed)."""
    cells = [
        {"r": r, "m": "get", "h": T0.replace(minute=0).isoformat(), "n": 10, "s": 8, "f": 2}
        | {"d": 20.0, "lo": 2.0, "hi": 2.0, "t": T0.isoformat()}
        | Histogram.of([2.0] * 10).to_json()
        for r in reversed(ROUTES)
    ]
    operations = [
        {"o": "hot", "h": T0.replace(minute=0).isoformat(), "n": 10, "s": 10, "f": 0}
        | {"d": 10.0, "lo": 1.0, "hi": 1.0, "t": T0.isoformat()}
        | Histogram.of([1.0] * 10).to_json()
    ]
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for _ in range(ROUNDS // 4):
                conn.execute(
                    "SELECT pgmetrics.ingest_batch(%s, %s::jsonb, %s::jsonb)",
                    (uuid.uuid4(), json.dumps(cells), json.dumps(operations)),
                )
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def _summary(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, tuple[int, int, float]]:
    rows = conn.execute(
        "SELECT route, total_requests, failed, total_duration_ms "
        "FROM pgmetrics.route_metrics_summary('2026-03-01', '2026-03-04', 'day')"
    ).fetchall()
    return {str(r[0]): (int(str(r[1])), int(str(r[2])), float(str(r[3]))) for r in rows}


@pytest.mark.slow
def test_direct_calls_batches_and_folds_on_the_same_keys_are_exact(db: Database) -> None:
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_direct if i % 2 == 0 else _batches, args=(db.dsn, i, errors))
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    direct_clients = CLIENTS // 2
    batch_clients = CLIENTS - direct_clients
    per_route = direct_clients * ROUNDS + batch_clients * (ROUNDS // 4) * 10
    failed = direct_clients * (ROUNDS // 5) + batch_clients * (ROUNDS // 4) * 2
    expected = {route: (per_route, failed, per_route * 2.0) for route in ROUTES}
    with db.connect() as conn:
        # Pending events count in the summaries before the last fold, and the same after it.
        assert _summary(conn) == expected
        conn.execute("SELECT pgmetrics.fold_events()")
        assert _summary(conn) == expected
        hourly = conn.execute(
            "SELECT route, total_requests, failed, total_duration_ms FROM pgmetrics.route_metrics"
        ).fetchall()
        assert {str(r[0]): (r[1], r[2], r[3]) for r in hourly} == expected
        daily = conn.execute(
            "SELECT route, total_requests, failed FROM pgmetrics.route_metrics_rollup "
            "WHERE grain = 'day'"
        ).fetchall()
        assert {str(r[0]): (r[1], r[2]) for r in daily} == {
            route: (per_route, failed) for route in ROUTES
        }
        operation = conn.execute(
            "SELECT total_executions, total_duration_ms FROM pgmetrics.operation_metrics"
        ).fetchall()
        operations = direct_clients * ROUNDS + batch_clients * (ROUNDS // 4) * 10
        assert operation == [(operations, float(operations))]
        pending = conn.execute(
            "SELECT (SELECT count(*) FROM pgmetrics.route_events)"
            " + (SELECT count(*) FROM pgmetrics.operation_events)"
        ).fetchone()
        assert pending == (0,)


@pytest.fixture(scope="module")
def crash_cluster(saved_template: Path) -> Iterator[LocalCluster]:
    """A durable cluster of this module alone (fsync on, synchronous commits), so that an
    acknowledged commit must survive the immediate stop."""
    with LocalCluster(durable=True, settings={"synchronous_commit": "on"}) as cluster:
        restore_deployed(cluster, "crash", saved_template)
        yield cluster


@pytest.mark.slow
def test_every_acknowledged_call_survives_an_immediate_stop(crash_cluster: LocalCluster) -> None:
    dsn = crash_cluster.dsn("crash")
    acknowledged: list[set[float]] = [set() for _ in range(4)]
    unknown: list[set[float]] = [set() for _ in range(4)]

    def client(index: int) -> None:
        # Each call carries its own duration, so that the stored rows say which calls they are.
        with psycopg.connect(dsn, autocommit=True) as conn:
            for i in range(1_000_000):
                duration = float(index * 1_000_000 + i)
                try:
                    conn.execute(
                        "SELECT pgmetrics.record_route_metric('/crash', 'POST', true, %s)",
                        (duration,),
                    )
                except psycopg.Error:
                    unknown[index].add(duration)
                    return
                acknowledged[index].add(duration)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    crash_cluster.stop("immediate")
    for thread in threads:
        thread.join(timeout=60)
    crash_cluster.start()
    crash_cluster.wait_ready()

    with psycopg.connect(dsn, autocommit=True) as conn:
        stored = [
            float(str(r[0]))
            for r in conn.execute("SELECT duration_ms FROM pgmetrics.route_events").fetchall()
        ]
        summary = conn.execute(
            "SELECT total_requests FROM pgmetrics.route_metrics_summary("
            "now() - interval '1 day', now() + interval '1 day', 'all', '/crash')"
        ).fetchone()
    every_acknowledged = set().union(*acknowledged)
    every_unknown = set().union(*unknown)
    assert len(every_acknowledged) > 0
    assert len(stored) == len(set(stored)), "a call was stored twice"
    assert every_acknowledged <= set(stored), "an acknowledged call was lost"
    assert set(stored) - every_acknowledged <= every_unknown, "a call nobody made was stored"
    assert summary == (len(stored),)
