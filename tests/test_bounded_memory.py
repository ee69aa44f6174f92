"""Memory stays bounded across all the hours an outage holds, a backlog goes out in batches of
bounded size under ids of their own, and a batch that statement_timeout cancels is split rather
than sent again as it is forever."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from pgmetrics import DatabaseMetricsStorage
from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import OVERFLOW
from pgmetrics.flusher import Batch, Flusher, Outcome
from tests.conftest import Database, create_missing
from tests.stored import route_totals

T0 = datetime(2026, 3, 1, 0, 10, tzinfo=UTC)


def _batches(db: Database) -> list[tuple[int, int]]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT route_cells, operation_cells FROM pgmetrics.ingested_batches"
        ).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]  # type: ignore[call-overload]


@pytest.mark.slow
def test_an_outage_of_a_day_holds_at_most_max_cells_and_delivers_in_bounded_batches(
    missing_database: Database,
) -> None:
    db = missing_database
    storage = DatabaseMetricsStorage(
        db.dsn,
        batch_interval=3600,
        connect_timeout=1,
        read_timeout=1,
        retry_initial=0.05,
        retry_max=0.2,
        max_keys=1_000,
        max_cells=200,
        max_batch_cells=64,
    )
    try:
        # 24 hours of 20 routes, two events each: 480 cells, more than max_cells across hours
        # although every hour stays far below max_keys.
        for hour in range(24):
            for i in range(40):
                at = T0 + timedelta(hours=hour, seconds=i)
                storage.record_route_metric(f"/day/{i % 20}", "GET", i % 3 != 0, 1.0, at)
            if hour % 6 == 5:
                assert storage.flush() is False
        # The first 200 cells (ten hours) are held; the events of every later key are counted
        # under the overflow key of their hour: one cell per hour.
        assert storage.held_cells == 200 + 14
        assert storage.overflowed_events == 14 * 40
        report = storage.get_route_metrics(bucket="all")
        assert report.source == "memory"
        totals = {row.route: row.total_requests for row in report}
        assert totals[OVERFLOW] == 14 * 40
        assert sum(totals.values()) == 24 * 40

        create_missing(db)
        assert storage.flush(timeout=30)
        assert storage.held_cells == 0
    finally:
        storage.close(5)
    batches = _batches(db)
    assert sum(routes for routes, _ in batches) == 214
    assert len(batches) == 4  # 214 cells in batches of at most 64
    assert all(routes + operations <= 64 for routes, operations in batches)
    stored = route_totals(db.dsn)
    assert stored[OVERFLOW][0] == 14 * 40
    assert sum(total for total, _, _ in stored.values()) == 24 * 40


def test_a_backlog_goes_out_as_several_batches_each_under_its_own_id(db: Database) -> None:
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600, max_batch_cells=100)
    try:
        for hour in range(24):
            for i in range(30):
                storage.record_route_metric(f"/b/{i}", "GET", True, 2.0, T0 + timedelta(hours=hour))
            storage.record_operation_metric("b", True, 1.0, T0 + timedelta(hours=hour))
        assert storage.flush(timeout=30)
    finally:
        storage.close(5)
    batches = _batches(db)
    assert len(batches) == 8  # 744 cells
    assert all(routes + operations <= 100 for routes, operations in batches)
    assert sum(routes + operations for routes, operations in batches) == 24 * 31
    assert route_totals(db.dsn) == {f"/b/{i}": (24, 0, 48.0) for i in range(30)}


SLOW_ROWS = """
CREATE FUNCTION public.slow_row() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_catalog.pg_sleep(0.05);
    RETURN NULL;
END $$;
CREATE TRIGGER slow_row AFTER INSERT OR UPDATE ON pgmetrics.route_cells
FOR EACH ROW EXECUTE FUNCTION public.slow_row();
"""


@pytest.mark.slow
def test_a_batch_that_statement_timeout_cancels_is_split_until_it_passes(db: Database) -> None:
    # Each hourly row costs 50 ms: 40 cells take 2 s, more than the 0.6 s statement_timeout,
    # every time. Only smaller batches can pass.
    with db.connect() as conn:
        conn.execute(SLOW_ROWS)
    storage = DatabaseMetricsStorage(
        db.dsn, batch_interval=3600, statement_timeout=0.6, retry_initial=0.05, retry_max=0.2
    )
    try:
        for i in range(40):
            storage.record_route_metric(f"/slow/{i}", "GET", True, 1.0, T0)
            storage.record_route_metric(f"/slow/{i}", "POST", False, 3.0, T0)
        assert storage.flush(timeout=60)
        assert storage.rejected_batches == 0
        assert storage.dropped_cells == 0
    finally:
        storage.close(5)
    batches = _batches(db)
    assert len(batches) > 1
    # 80 cells halved until they pass: 10 rows take 0.5 s, 20 take 1 s.
    assert all(routes <= 10 for routes, _ in batches)
    assert route_totals(db.dsn) == {f"/slow/{i}": (2, 1, 4.0) for i in range(40)}


class ScriptedDatabase:
    """Answers sends with scripted outcomes and applies what it is told committed. A fake: a
    real server cannot be made to cancel the resend of a batch it has already applied (it
    acknowledges that at once), yet the flusher must never split such a batch, whose parts would
    be applied a second time under their new ids."""

    def __init__(self, script: list[Outcome]) -> None:
        self.script = script
        self.applied: dict[uuid.UUID, int] = {}
        self.sent: list[uuid.UUID] = []

    def send(self, batch: Batch, timeout: float) -> Outcome:
        batch.sealed = True
        self.sent.append(batch.batch_id)
        outcome = self.script.pop(0) if self.script else Outcome.DELIVERED
        if outcome in (Outcome.UNKNOWN, Outcome.DELIVERED):
            # UNKNOWN here: committed, its answer lost.
            self.applied.setdefault(batch.batch_id, len(batch))
        return outcome


def test_a_batch_in_doubt_is_never_split_and_one_that_is_not_is() -> None:
    aggregator = Aggregator(1_000)
    for i in range(8):
        aggregator.record_route(f"/doubt/{i}", "GET", True, 1.0, T0)
    database = ScriptedDatabase([Outcome.UNKNOWN, Outcome.CANCELLED, Outcome.CANCELLED])
    flusher = Flusher(
        aggregator,
        database.send,
        interval=3600,
        send_timeout=1,
        retry_initial=0.001,
        retry_max=0.002,
    )
    assert flusher.flush(timeout=5)
    assert set(database.sent) == set(database.applied)
    assert list(database.applied.values()) == [8]  # one batch, sent four times

    for i in range(8):
        aggregator.record_route(f"/clear/{i}", "GET", True, 1.0, T0)
    database = ScriptedDatabase([Outcome.CANCELLED, Outcome.ROLLED_BACK])
    flusher = Flusher(
        aggregator,
        database.send,
        interval=3600,
        send_timeout=1,
        retry_initial=0.001,
        retry_max=0.002,
    )
    assert flusher.flush(timeout=5)
    assert sorted(database.applied.values()) == [4, 4]  # cancelled: split; rolled back: resent
