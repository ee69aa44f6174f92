"""The histogram each cell carries: recorded per event (the bucket of every double, as
``bucket_index`` defines it), merged across threads and batches, copied, sent in the cell JSON of
``ingest_batch``, and delivered exactly once through outages, lost answers and poison batches."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from pgmetrics import aggregator as aggregator_module
from pgmetrics.aggregator import Aggregator
from pgmetrics.cells import (
    Cell,
    OperationCells,
    RouteCells,
    merge_cell,
    merge_cells,
    operation_cells_json,
    route_cells_json,
)
from pgmetrics.checks import MAX_DURATION_MS, check_route_read
from pgmetrics.flusher import Batch, Flusher, Outcome
from pgmetrics.histogram import Histogram, boundary, unpack
from pgmetrics.summary import route_rows

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
HOUR = int(T0.timestamp()) // 3600


def _awkward_durations() -> list[float]:
    """Bucket boundaries and their neighbours (where the logarithm is not trusted), the extremes
    of the double range, zeros, and ordinary latencies."""
    values: list[float] = [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e300, 1.0]
    for n in range(-36000, 35000, 997):
        at = math.ldexp(*boundary(n))
        values += [at, math.nextafter(at, 0.0), math.nextafter(at, math.inf)]
    for n in range(-50, 400):
        at = math.ldexp(*boundary(n))
        values += [at, math.nextafter(at, 0.0), math.nextafter(at, math.inf)]
    rng = random.Random(11)
    values += [rng.lognormvariate(2.0, 2.0) for _ in range(3000)]
    return values


def test_cell_json_carries_the_histogram_of_the_durations() -> None:
    values = [v for v in _awkward_durations() if v <= MAX_DURATION_MS]  # the rest is refused
    aggregator = Aggregator(100)
    for value in values:
        aggregator.record_route("/json", "GET", True, value, T0)
        aggregator.record_operation("json", False, value, T0)
    # Other number types go through validation first, and land in the same buckets.
    others: list[int | Decimal | Fraction] = [0, 7, 250, Decimal("2.5"), Fraction(1, 3)]
    for other in others:
        aggregator.record_route("/json", "GET", True, other, T0)  # type: ignore[arg-type]
    routes: RouteCells = {}
    operations: OperationCells = {}
    aggregator.take(routes, operations)
    (route,) = route_cells_json(routes)
    (operation,) = operation_cells_json(operations)
    assert (route["zero_count"], operation["zero_count"]) == (3, 2)  # 0.0, -0.0 and 0
    for cell, recorded in ((route, values + [float(o) for o in others]), (operation, values)):
        expected = Histogram.of(recorded)
        assert cell["histogram"] == expected.to_sql()
        assert cell["zero_count"] == sum(1 for v in recorded if v == 0.0)
        packed = cell["histogram"]
        assert isinstance(packed, list)
        assert packed == sorted(packed)
        assert cell["zero_count"] + sum(unpack(e)[1] for e in packed) == cell["n"] == len(recorded)
        # What psycopg's Jsonb sends: plain JSON integers, read back unchanged.
        assert json.loads(json.dumps(cell))["histogram"] == packed


def test_an_empty_duration_histogram_is_still_sent() -> None:
    aggregator = Aggregator(100)
    aggregator.record_operation("zero", True, 0.0, T0)
    aggregator.record_operation("zero", True, 0, T0)
    routes: RouteCells = {}
    operations: OperationCells = {}
    aggregator.take(routes, operations)
    (cell,) = operation_cells_json(operations)
    assert (cell["histogram"], cell["zero_count"], cell["n"]) == ([], 2, 2)


def test_a_record_between_a_take_and_its_merge_counts_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aggregator = Aggregator(max_keys=10)
    routes: RouteCells = {}
    operations: OperationCells = {}
    aggregator.record_route("/a", "GET", True, 1.0, T0)
    aggregator.take(routes, operations)  # the thread's map is empty from here
    merge = aggregator_module.merge_cells
    recorded: list[bool] = []

    def record_then_merge(into: dict[object, Cell], cells: dict[object, Cell]) -> None:
        if not recorded:
            recorded.append(True)
            # The thread records after the take released its lock, before the take merges.
            aggregator.record_route("/b", "GET", True, 2.0, T0)
        merge(into, cells)

    monkeypatch.setattr(aggregator_module, "merge_cells", record_then_merge)
    aggregator.take(routes, operations)
    monkeypatch.undo()
    aggregator.take(routes, operations)
    assert recorded
    assert {key[0]: cell.total for key, cell in routes.items()} == {"/a": 1, "/b": 1}


def test_threads_and_overflow_merge_into_one_histogram() -> None:
    aggregator = Aggregator(max_keys=2)
    rng = random.Random(3)
    per_thread = [[rng.lognormvariate(1.0, 1.0) for _ in range(4000)] for _ in range(4)]
    routes: RouteCells = {}
    operations: OperationCells = {}

    def work(values: list[float]) -> None:
        for i, value in enumerate(values):
            aggregator.record_route(f"/r{i % 5}", "GET", True, value, T0)
            if i % 1000 == 0:
                aggregator.take(routes, operations)  # a collector running meanwhile

    threads = [threading.Thread(target=work, args=(values,)) for values in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    aggregator.take(routes, operations)
    everything = [v for values in per_thread for v in values]
    assert Histogram.of(everything) == _merged(routes.values())
    for cell in routes.values():
        assert cell.histogram.total == cell.total


def _merged(cells: Iterable[Cell]) -> Histogram:
    histogram = Histogram()
    for cell in cells:
        histogram.merge(cell.histogram)
    return histogram


def test_copies_share_no_histogram() -> None:
    aggregator = Aggregator(100)
    for value in (1.0, 2.0, 0.0):
        aggregator.record_route("/copy", "GET", True, value, T0)
    peeked: RouteCells = {}
    aggregator.peek(peeked, {})
    copied: RouteCells = {}
    merge_cells(copied, peeked, copy=True)
    (cell,) = copied.values()
    merge_cell(
        cell, dataclasses.replace(cell, histogram=Histogram.of([5.0, 0.0]))
    )  # grows the copy only
    assert cell.histogram == Histogram.of([1.0, 2.0, 0.0, 5.0, 0.0])
    (original,) = peeked.values()
    assert original.histogram == Histogram.of([1.0, 2.0, 0.0])
    taken: RouteCells = {}
    aggregator.take(taken, {})
    assert taken[("/copy", "GET", HOUR)].histogram == Histogram.of([1.0, 2.0, 0.0])


class FlakyDatabase:
    """A stand-in for ingest_batch: unreachable while ``down``; applies each batch id once (as
    the cell JSON the storage would send); loses the answer of every first send; refuses any
    batch that holds a route starting with /bad."""

    def __init__(self) -> None:
        self.down = True
        self.applied: dict[uuid.UUID, list[dict[str, object]]] = {}
        self.answered: set[uuid.UUID] = set()

    def send(self, batch: Batch, connect_timeout: float) -> Outcome:
        if self.down:
            return Outcome.NOT_SENT
        batch.sealed = True
        cells = route_cells_json(batch.routes) + operation_cells_json(batch.operations)
        if any(str(cell.get("r", "")).startswith("/bad") for cell in cells):
            return Outcome.REJECTED
        self.applied.setdefault(batch.batch_id, json.loads(json.dumps(cells)))
        if batch.batch_id not in self.answered:
            self.answered.add(batch.batch_id)
            return Outcome.UNKNOWN
        return Outcome.DELIVERED

    def histograms(self) -> dict[tuple[str, str], Histogram]:
        """The applied histograms, merged per key and hour."""
        merged: dict[tuple[str, str], Histogram] = {}
        for cells in self.applied.values():
            for cell in cells:
                key = (str(cell.get("r", cell.get("o"))), str(cell["h"]))
                histogram = Histogram.from_json(cell)
                assert histogram.total == cell["n"]
                merged.setdefault(key, Histogram()).merge(histogram)
        return merged


def _flusher(aggregator: Aggregator, database: FlakyDatabase) -> Flusher:
    return Flusher(
        aggregator, database.send, interval=3600, send_timeout=1, retry_initial=0.01,
        retry_max=0.05,
    )  # fmt: skip


def test_histograms_survive_an_outage_and_a_lost_answer_once() -> None:
    aggregator = Aggregator(10_000)
    database = FlakyDatabase()
    flusher = _flusher(aggregator, database)
    rng = random.Random(5)
    recorded: dict[tuple[str, str], list[float]] = {}

    def record(count: int) -> None:
        for _ in range(count):
            hour = rng.randrange(3)
            value = rng.choice([0.0, rng.lognormvariate(3.0, 1.0), rng.lognormvariate(3.0, 1.0)])
            at = T0 + timedelta(hours=hour)
            aggregator.record_route(f"/r{hour}", "GET", True, value, at)
            aggregator.record_operation("op", True, value, at)
            h = at.replace(minute=0).isoformat()
            recorded.setdefault((f"/r{hour}", h), []).append(value)
            recorded.setdefault(("op", h), []).append(value)

    record(2000)
    assert not flusher.flush(None)
    record(2000)
    assert not flusher.flush(None)
    record(1000)  # still in the thread's buffer
    assert flusher.pending_batches() == 1
    # The memory fallback reads the pending batch and the buffers: every value so far.
    routes: RouteCells = {}
    flusher.pending_cells(routes, {})
    (row,) = route_rows(routes, check_route_read("/r1", None, None, "all", "UTC"))
    values = recorded[("/r1", (T0 + timedelta(hours=1)).replace(minute=0).isoformat())]
    ordered = sorted(values)
    for q, got in ((0.5, row.p50_duration_ms), (0.99, row.p99_duration_ms)):
        exact = ordered[max(1, math.ceil(q * len(ordered))) - 1]
        assert got == pytest.approx(exact, rel=0.02)
    database.down = False
    assert flusher.flush(10)
    assert flusher.pending_batches() == 0
    assert database.histograms() == {key: Histogram.of(v) for key, v in recorded.items()}
    assert len(database.applied) == 1  # the outage held one batch, applied once


def test_poison_batch_splitting_keeps_every_other_histogram_once() -> None:
    aggregator = Aggregator(10_000)
    database = FlakyDatabase()
    database.down = False
    flusher = _flusher(aggregator, database)
    rng = random.Random(9)
    recorded: dict[tuple[str, str], list[float]] = {}
    hour = T0.replace(minute=0).isoformat()
    for i in range(40):
        route = f"/bad/{i}" if i in (6, 29) else f"/good/{i}"
        for _ in range(i % 7 + 1):
            value = rng.choice([0.0, rng.expovariate(0.05)])
            aggregator.record_route(route, "PUT", True, value, T0)
            if not route.startswith("/bad"):
                recorded.setdefault((route, hour), []).append(value)
    assert flusher.flush(10)
    assert flusher.dropped_cells == 2
    assert len(database.applied) > 2, "the batch was split"
    assert database.histograms() == {key: Histogram.of(v) for key, v in recorded.items()}
