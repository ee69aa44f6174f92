"""Poison batches: a batch the database refuses for its content is split until the refused cells
are alone; those are dropped, counted and logged, the rest is delivered exactly once, and the
flusher keeps running."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from pgmetrics import DatabaseMetricsStorage
from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import Cell, copy_cell
from pgmetrics.checks import BUCKETS, MAX_CELL_COUNT, MAX_DURATION_MS
from pgmetrics.flusher import Batch, Flusher, Outcome, split_batch
from pgmetrics.histogram import Histogram, bucket_index
from tests.conftest import Database

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
HUGE = 1.7976931348623157e308  # two of them in one cell add up to infinity


class FakeDatabase:
    """Applies batches by id once, refuses a batch holding a bad route, and loses the answer
    of the first send of every part once (the commit happened, the client does not know)."""

    def __init__(self) -> None:
        self.applied: dict[uuid.UUID, dict[object, Cell]] = {}
        self.refused: list[uuid.UUID] = []
        self.answer_lost: set[uuid.UUID] = set()

    def send(self, batch: Batch, connect_timeout: float) -> Outcome:
        batch.sealed = True
        if any(key[0].startswith("/bad") for key in batch.routes):
            self.refused.append(batch.batch_id)
            return Outcome.REJECTED
        if batch.batch_id not in self.applied:
            self.applied[batch.batch_id] = {
                **{("r", *k): copy_cell(c) for k, c in batch.routes.items()},
                **{("o", *k): copy_cell(c) for k, c in batch.operations.items()},
            }
        if batch.batch_id not in self.answer_lost:
            self.answer_lost.add(batch.batch_id)
            return Outcome.UNKNOWN
        return Outcome.DELIVERED


def test_split_batch_halves_every_cell_under_new_ids() -> None:
    routes = {(f"/r{i}", "GET", 1): [1.0, 1.0, 1.0, 1.0, 1.0, 1.0] for i in range(3)}
    operations = {(f"op{i}", 1): [1.0, 1.0, 1.0, 1.0, 1.0, 1.0] for i in range(4)}
    batch = Batch(routes, operations, sealed=True)
    first, second = split_batch(batch)
    assert len(first.routes) + len(first.operations) == 3
    assert len(second.routes) + len(second.operations) == 4
    assert {**first.routes, **second.routes} == routes
    assert {**first.operations, **second.operations} == operations
    assert len({batch.batch_id, first.batch_id, second.batch_id}) == 3
    assert first.sealed
    assert second.sealed
    assert split_batch(Batch({}, {("op", 1): [1.0] * 6})) == []


def test_refused_cells_are_isolated_and_the_rest_applied_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    aggregator = Aggregator(10_000)
    good = [f"/good/{i}" for i in range(37)]
    bad = ["/bad/1", "/bad/2", "/bad/3"]
    for i, route in enumerate(good + bad):
        for _ in range(i % 3 + 1):
            aggregator.record_route(route, "GET", True, 1.0, T0)
    aggregator.record_operation("op", True, 2.0, T0)
    fake = FakeDatabase()
    flusher = Flusher(
        aggregator, fake.send, interval=3600, send_timeout=1, retry_initial=0.01, retry_max=0.05
    )
    with caplog.at_level(logging.WARNING, logger="pgmetrics"):
        assert flusher.flush(10)
    assert flusher.dropped_cells == 3
    assert flusher.pending_batches() == 0
    assert not set(fake.refused) & set(fake.applied), "a refused batch id was applied"
    applied: dict[object, float] = {}
    for cells in fake.applied.values():
        for key, cell in cells.items():
            assert key not in applied, f"{key} applied twice"
            applied[key] = cell.total
    expected: dict[object, float] = {
        ("r", route, "GET", int(T0.timestamp()) // 3600): float(i % 3 + 1)
        for i, route in enumerate(good)
    }
    expected["o", "op", int(T0.timestamp()) // 3600] = 1.0
    assert applied == expected
    messages = "\n".join(r.getMessage() for r in caplog.records)
    for route in bad:
        assert route in messages, "each dropped cell is logged with its key"
    # The flusher goes on: later cells are delivered.
    aggregator.record_route("/later", "GET", True, 1.0, T0)
    assert flusher.flush(10)
    assert any(
        ("r", "/later", "GET", int(T0.timestamp()) // 3600) in c for c in fake.applied.values()
    )


@pytest.fixture
def storage(db: Database) -> Iterator[DatabaseMetricsStorage]:
    storage = DatabaseMetricsStorage(
        db.dsn, batch_interval=3600, retry_initial=0.01, retry_max=0.2, connect_timeout=5
    )
    try:
        yield storage
    finally:
        storage.close(timeout=10)


def _route_totals(db: Database) -> dict[str, int]:
    with db.connect() as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        rows = conn.execute(
            "SELECT route, sum(total_requests)::int FROM pgmetrics.route_metrics GROUP BY route"
        ).fetchall()
    return {str(route): int(total) for route, total in rows}


def test_durations_past_the_bound_are_refused_before_they_reach_a_batch(
    db: Database, storage: DatabaseMetricsStorage
) -> None:
    # Two durations near the largest double once added up to infinity in one cell; the client
    # now refuses each, as the database does, and the bound itself adds up to a finite sum.
    for huge in (HUGE, 1e308, math.nextafter(MAX_DURATION_MS, math.inf)):
        with pytest.raises(ValueError, match="duration_ms must be at most 1e"):
            storage.record_route_metric("/huge", "POST", True, huge, T0)
    expected = {}
    for i in range(30):
        route = f"/users/{i}"
        expected[route] = i % 4 + 1
        for _ in range(i % 4 + 1):
            storage.record_route_metric(route, "GET", True, 10.0, T0)
    storage.record_route_metric("/huge", "POST", True, MAX_DURATION_MS, T0)
    storage.record_route_metric("/huge", "POST", True, MAX_DURATION_MS, T0)
    expected["/huge"] = 2
    assert storage.flush(30)
    assert _route_totals(db) == expected
    assert storage.dropped_cells == 0
    assert storage.rejected_batches == 0


REFUSE_POISON = """
CREATE FUNCTION public.refuse_poison() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.route = '/poison' THEN
        RAISE EXCEPTION 'route /poison refused' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON pgmetrics.route_cells
FOR EACH ROW EXECUTE FUNCTION public.refuse_poison();
"""


def test_a_route_the_database_refuses_is_dropped_alone(
    db: Database, storage: DatabaseMetricsStorage
) -> None:
    with db.connect() as conn:
        conn.execute(REFUSE_POISON)
    expected = {}
    for i in range(41):
        route = f"/orders/{i}"
        expected[route] = i % 3 + 1
        for _ in range(i % 3 + 1):
            storage.record_route_metric(route, "PUT", i % 2 == 0, 3.0, T0)
        if i == 17:
            storage.record_route_metric("/poison", "GET", True, 1.0, T0)
    assert storage.flush(30)
    assert _route_totals(db) == expected
    assert storage.dropped_cells == 1
    with db.connect() as conn:
        batches = conn.execute("SELECT count(*) FROM pgmetrics.ingested_batches").fetchone()
        conn.execute("DROP TRIGGER refuse_poison ON pgmetrics.route_cells")
    # Every applied part was remembered once; bisecting 42 cells takes at most 2 * 6 parts.
    assert batches is not None
    assert 1 <= batches[0] <= 12
    storage.record_route_metric("/poison", "GET", True, 1.0, T0)
    assert storage.flush(30)
    assert _route_totals(db)["/poison"] == 1


BOUND_HOUR = datetime(2026, 3, 9, 14, tzinfo=UTC)
_SPAN = "%(start)s, %(end)s, %(bucket)s"
READS = [
    f"SELECT count(*) FROM pgmetrics.route_metrics_summary({_SPAN})",
    f"SELECT count(*) FROM pgmetrics.route_metrics_summary({_SPAN}, '/bound')",
    f"SELECT count(*) FROM pgmetrics.route_metrics_summary({_SPAN}, '/bound', 'GET')",
    f"SELECT count(*) FROM pgmetrics.operation_metrics_summary({_SPAN})",
    f"SELECT count(*) FROM pgmetrics.operation_metrics_summary({_SPAN}, 'bound')",
]
QUANTILES = [
    "SELECT pgmetrics.route_duration_quantile(%(q)s, %(start)s, %(end)s)",
    "SELECT pgmetrics.route_duration_quantile(%(q)s, %(start)s, %(end)s, '/bound', 'GET')",
    "SELECT pgmetrics.operation_duration_quantile(%(q)s, %(start)s, %(end)s)",
    "SELECT pgmetrics.operation_duration_quantile(%(q)s, %(start)s, %(end)s, 'bound')",
]


def _bound_cells(hours: list[datetime], per_hour: int, kind: str) -> list[dict[str, object]]:
    """Cells at every bound at once: the most events a cell may count, with the largest sum of
    durations, in ``per_hour`` cells of one key in each of ``hours``. All but one event are
    zeros in the histogram, which keeps the batch small; the sum is what the bounds allow."""
    cells: list[dict[str, object]] = []
    for hour in hours:
        for _ in range(per_hour):
            cell: dict[str, object] = {
                "h": hour.isoformat(),
                "n": MAX_CELL_COUNT,
                "s": MAX_CELL_COUNT,
                "f": 0,
                "d": MAX_DURATION_MS * MAX_CELL_COUNT,
                "lo": 0.0,
                "hi": MAX_DURATION_MS,
                "t": (hour + timedelta(minutes=59, seconds=59)).isoformat(),
                **Histogram({bucket_index(MAX_DURATION_MS): 1}, MAX_CELL_COUNT - 1).to_json(),
            }
            cell.update({"r": "/bound", "m": "GET"} if kind == "route" else {"o": "bound"})
            cells.append(cell)
    return cells


def _read_everything(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    span = {"start": datetime(2025, 1, 1, tzinfo=UTC), "end": datetime(2027, 1, 1, tzinfo=UTC)}
    for bucket in BUCKETS:
        for query in READS:
            row = conn.execute(query, {**span, "bucket": bucket}).fetchone()
            assert row is not None
            assert row[0] >= 1, (query, bucket)
    for q in (0.0, 0.5, 0.99, 1.0):
        for query in QUANTILES:
            row = conn.execute(query, {**span, "q": q}).fetchone()
            assert row is not None
            assert row[0] is not None, query
            assert row[0] <= MAX_DURATION_MS, query
    for view in ("route_metrics_by_day", "route_metrics_by_week", "route_metrics_by_month"):
        conn.execute(f"SELECT count(*), sum(total_requests) FROM pgmetrics.{view}")


def test_no_accepted_input_makes_a_fold_or_a_read_fail(db: Database) -> None:
    # Every hour of a month, several cells at the bounds, plus one hour holding many more, and
    # the longest duration recorded directly many times in one key and hour.
    hours = [datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(31 * 24)]
    with db.connect() as conn:
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            conn.execute(
                "SELECT pgmetrics.record_route_metric('/bound', 'GET', true, %s, %s)",
                (HUGE, BOUND_HOUR),
            )
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            # Two cells of 5e18 requests once made the fold raise "bigint out of range".
            conn.execute(
                "SELECT pgmetrics.ingest_batch(%s, ARRAY[c, c], NULL) FROM (SELECT"
                " ROW('/bound', 'GET', %s, 5e18, 5e18, 0, 0, 0, %s, 5e18, '{}')"
                "::pgmetrics.route_cell AS c) AS x",
                (uuid.uuid4(), BOUND_HOUR, BOUND_HOUR),
            )
        with conn.cursor() as cur:
            cur.executemany(
                "SELECT pgmetrics.record_route_metric('/bound', 'GET', true, %s, %s)",
                [(MAX_DURATION_MS, BOUND_HOUR + timedelta(minutes=i % 60)) for i in range(500)],
            )
            cur.executemany(
                "SELECT pgmetrics.record_operation_metric('bound', false, %s, %s)",
                [(MAX_DURATION_MS, BOUND_HOUR) for _ in range(500)],
            )
        hot = [BOUND_HOUR]
        batches = [
            (_bound_cells(hours, 2, "route"), _bound_cells(hours, 2, "operation")),
            (_bound_cells(hot, 400, "route"), _bound_cells(hot, 400, "operation")),
        ]
        for routes, operations in batches:
            applied = conn.execute(
                "SELECT pgmetrics.ingest_batch(%s, %s, %s)",
                (uuid.uuid4(), Jsonb(routes), Jsonb(operations)),
            ).fetchone()
            assert applied == (True,)
        _read_everything(conn)  # the cells pending, not yet folded
        conn.execute("SELECT pgmetrics.fold_events()")
        _read_everything(conn)
        row = conn.execute(
            "SELECT total_requests, total_duration_ms FROM pgmetrics.route_metrics_summary("
            "'2025-01-01', '2027-01-01', 'all', '/bound', 'GET')"
        ).fetchone()
        assert row is not None
        assert row[0] == (2 * len(hours) + 400) * MAX_CELL_COUNT + 500
        assert math.isfinite(row[1])
        # Rolled up: the detail of the first half of March is dropped, its days kept.
        conn.execute("SELECT pgmetrics.run_retention('2026-06-15')")
        conn.execute("SELECT pgmetrics.fold_events()")
        _read_everything(conn)
