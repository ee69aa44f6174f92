"""Poison batches: a batch the database refuses for its content is split until the refused cells
are alone; those are dropped, counted and logged, the rest is delivered exactly once, and the
flusher keeps running."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pgmetrics import DatabaseMetricsStorage
from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import Cell, copy_cell
from pgmetrics.flusher import Batch, Flusher, Outcome, split_batch
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


def test_durations_adding_up_to_infinity_poison_only_their_cell(
    db: Database, storage: DatabaseMetricsStorage, caplog: pytest.LogCaptureFixture
) -> None:
    # Each duration is valid; their sum in one cell is not a number the database accepts.
    expected = {}
    for i in range(30):
        route = f"/users/{i}"
        expected[route] = i % 4 + 1
        for _ in range(i % 4 + 1):
            storage.record_route_metric(route, "GET", True, 10.0, T0)
    storage.record_route_metric("/huge", "POST", True, HUGE, T0)
    storage.record_route_metric("/huge", "POST", True, HUGE, T0)
    storage.record_operation_metric("send_email", True, 5.0, T0)
    with caplog.at_level(logging.WARNING, logger="pgmetrics"):
        assert storage.flush(30)
    assert _route_totals(db) == expected
    assert storage.dropped_cells == 1
    assert storage.rejected_batches >= 1
    assert storage.pending_batches == 0
    assert "/huge" in "\n".join(r.getMessage() for r in caplog.records)
    with db.connect() as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        ops = conn.execute("SELECT total_executions FROM pgmetrics.operation_metrics").fetchall()
    assert ops == [(1,)]
    # Still running: the next records are delivered.
    storage.record_route_metric("/users/0", "GET", True, 10.0, T0)
    assert storage.flush(30)
    assert _route_totals(db)["/users/0"] == expected["/users/0"] + 1
    assert storage.dropped_cells == 1


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
