"""Duration histograms against the real database: recorded while the database does not exist
yet, read from memory with percentiles, and delivered once when it appears; and the same
percentiles from the database as from memory."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from devtools.localcluster import LocalCluster
from pgmetrics import DatabaseMetricsStorage, MemoryMetricsStorage, queries
from pgmetrics.histogram import Histogram
from pgmetrics.types import OperationMetrics, RouteMetrics
from tests.conftest import Database, drop_database
from tests.stored import operation_totals, route_totals

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)

# ingest_batch, and a copy of the cells of every batch it applied (in the same transaction, so
# exactly the batches the database committed, each once).
KEEP_DELIVERED = """
CREATE TABLE public.delivered (
    batch_id uuid PRIMARY KEY, routes jsonb NOT NULL, operations jsonb NOT NULL
);
CREATE FUNCTION public.ingest_and_keep(
    batch_id uuid, routes pgmetrics.route_cell[], operations pgmetrics.operation_cell[]
)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF pgmetrics.ingest_batch(
        batch_id => ingest_and_keep.batch_id,
        routes => ingest_and_keep.routes,
        operations => ingest_and_keep.operations
    ) THEN
        INSERT INTO public.delivered VALUES (
            ingest_and_keep.batch_id, COALESCE(to_jsonb(ingest_and_keep.routes), '[]'),
            COALESCE(to_jsonb(ingest_and_keep.operations), '[]')
        );
        RETURN true;
    END IF;
    RETURN false;
END $$;
"""
INGEST_AND_KEEP = """
SELECT public.ingest_and_keep(
    batch_id => %(batch_id)s,
    routes => %(routes)b::pgmetrics.route_cell[],
    operations => %(operations)b::pgmetrics.operation_cell[]
) AS applied
"""

Key = tuple[str, datetime]


@pytest.fixture
def missing_database(cluster: LocalCluster) -> Iterator[Database]:
    """A database name that does not exist until the test creates it, dropped afterwards."""
    database = Database(cluster, f"test_{uuid.uuid4().hex[:16]}")
    yield database
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database.name,)
        ).fetchone()
    if exists:
        drop_database(database)


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _delivered(db: Database) -> tuple[dict[Key, Histogram], dict[Key, int]]:
    """Histograms and counts of the delivered cells, merged per route (or operation) and hour."""
    histograms: dict[Key, Histogram] = {}
    counts: dict[Key, int] = {}
    with db.connect() as conn:
        rows = conn.execute("SELECT routes, operations FROM public.delivered").fetchall()
    for routes, operations in rows:
        cells: list[dict[str, Any]] = [*routes, *operations]  # type: ignore[misc]
        for cell in cells:
            name = str(cell.get("route", cell.get("operation")))
            key = (name, datetime.fromisoformat(cell["period_start"]))
            histogram = Histogram.from_sql(cell["duration_histogram"], cell["zero_count"])
            histograms.setdefault(key, Histogram()).merge(histogram)
            counts[key] = counts.get(key, 0) + int(
                cell.get("total_requests", cell.get("total_executions"))
            )
    return histograms, counts


def _stored_histograms(db: Database) -> dict[Key, Histogram]:
    """The histograms of the hourly tables."""
    with db.connect() as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        rows = conn.execute(
            "SELECT route, period_start, duration_histogram, zero_count "
            "FROM pgmetrics.route_metrics UNION ALL "
            "SELECT operation, period_start, duration_histogram, zero_count "
            "FROM pgmetrics.operation_metrics"
        ).fetchall()
    stored: dict[Key, Histogram] = {}
    for name, start, packed, zeros in rows:
        assert isinstance(start, datetime)
        assert isinstance(packed, list)
        assert isinstance(zeros, int)
        stored[str(name), start] = Histogram.from_sql(packed, zeros)
    return stored


def test_histograms_recorded_during_an_outage_are_delivered_once(
    missing_database: Database, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "INGEST_BATCH", INGEST_AND_KEEP)
    db = missing_database
    storage = DatabaseMetricsStorage(
        db.dsn,
        batch_interval=3600,
        connect_timeout=0.5,
        read_timeout=0.5,
        retry_initial=0.05,
        retry_max=0.2,
    )
    rng = random.Random(2026)
    recorded: dict[Key, list[float]] = {}

    def record(count: int) -> None:
        for i in range(count):
            at = T0 + timedelta(hours=i % 3, seconds=i % 600)
            value = 0.0 if i % 9 == 0 else rng.lognormvariate(3.0, 1.2)
            storage.record_route_metric(f"/outage/{i % 3}", "GET", i % 11 != 0, value, at=at)
            storage.record_operation_metric("outage", True, value, at=at)
            hour = at.replace(minute=0, second=0)
            recorded.setdefault((f"/outage/{i % 3}", hour), []).append(value)
            recorded.setdefault(("outage", hour), []).append(value)

    try:
        record(1500)
        assert storage.flush() is False
        record(1500)
        assert storage.flush() is False
        assert storage.pending_batches == 1
        record(600)  # left in the buffer
        report = storage.get_operation_metrics(bucket="all")
        assert report.source == "memory"
        assert report.error
        (row,) = report.rows
        everything = [v for (name, _), vs in recorded.items() if name == "outage" for v in vs]
        assert row.total_executions == len(everything) == 3600
        assert (row.min_duration_ms, row.max_duration_ms) == (min(everything), max(everything))
        got = (row.p50_duration_ms, row.p95_duration_ms, row.p99_duration_ms)
        for q, value in zip((0.5, 0.95, 0.99), got, strict=True):
            assert value == pytest.approx(_nearest_rank(everything, q), rel=0.02)

        with psycopg.connect(db.cluster.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(db.name), sql.Identifier(template)
                )
            )
        with db.connect() as conn:
            conn.execute(KEEP_DELIVERED)
        assert storage.flush(timeout=30)
        assert storage.dropped_cells == 0
    finally:
        storage.close(timeout=5)

    expected = {key: Histogram.of(values) for key, values in recorded.items()}
    histograms, counts = _delivered(db)
    assert histograms == expected
    assert counts == {key: len(values) for key, values in recorded.items()}
    totals = route_totals(db.dsn)
    assert {route: t[0] for route, t in totals.items()} == {f"/outage/{i}": 1200 for i in range(3)}
    assert operation_totals(db.dsn)["outage"][0] == 3600
    assert _stored_histograms(db) == expected


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata"])
def test_memory_percentiles_equal_the_database_ones(db: Database, tz: str) -> None:
    memory = MemoryMetricsStorage()
    database = DatabaseMetricsStorage(db.dsn, batch_interval=3600)
    rng = random.Random(tz)
    try:
        for i in range(3000):
            value = 0.0 if i % 13 == 0 else rng.lognormvariate(2.0, 1.5)
            at = T0 + timedelta(minutes=5 * i)
            for storage in (memory, database):
                storage.record_route_metric(f"/p/{i % 3}", "GET", True, value, at=at)
                storage.record_operation_metric("p", True, value, at=at)
        assert database.flush(timeout=30)
        for bucket in ("hour", "day", "week", "all"):
            stored = database.get_route_metrics(bucket=bucket, tz=tz)
            assert stored.source == "database", stored.error
            in_memory = memory.get_route_metrics(bucket=bucket, tz=tz).rows
            assert [_percentiles(r) for r in stored.rows] == [_percentiles(r) for r in in_memory]
            stored_operations = database.get_operation_metrics(bucket=bucket, tz=tz).rows
            in_memory_operations = memory.get_operation_metrics(bucket=bucket, tz=tz).rows
            assert [_percentiles(r) for r in stored_operations] == [
                _percentiles(r) for r in in_memory_operations
            ]
    finally:
        database.close()


def _percentiles(row: RouteMetrics | OperationMetrics) -> tuple[object, ...]:
    key = row.route if isinstance(row, RouteMetrics) else row.operation
    return (row.bucket_start, key, row.p50_duration_ms, row.p95_duration_ms, row.p99_duration_ms)
