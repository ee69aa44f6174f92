"""ingest_batch against COPY of the same rows into a plain table with the same primary key, in
the same run (goal: ingest_batch at >= 0.5x the cells per second of COPY).

Each cell is one (route, method, UTC hour) holding the histogram of 1,000 lognormal durations
(median 20 ms, sigma 1: about 220 buckets, as an hour of a busy route). To keep generation fast,
--pool distinct histograms are drawn once (fixed seed) and assigned to the cells round-robin.
Every run sends --cells cells (default 4,000, the size of a client flush) as one ingest_batch
call, twice: as new keys, then, after fold_events, the same cells again under a new batch_id
(keys already stored). The baseline is COPY (text format) of the same
rows, with the same counts and the same packed int[] histogram, into a plain table keyed
(route, method, period_start) without triggers. Both sides are rendered before the clock starts
(the client's binary cell arrays for ingest_batch, COPY text for COPY); the client's rendering
time is printed apart. Each cell's histogram is a pool histogram plus one duration of its own, so
no two cells of a batch are alike.
synchronous_commit on; the three kinds of run alternate, so the machine's other load weighs on
all three. After each run's two batches, fold_events() (when the schema has it) is timed apart:
work a schema defers from ingest_batch to the fold shows there. set_setting('report_time_zones',
'America/New_York,Asia/Kolkata') is tried first and skipped on schemas without it.

    python -m bench.ingest [--cells 4000] [--runs 5] [--pool 256] [--no-append]

The ingest call is behind send_batch (encode_batch + send_encoded): switching the benchmarks to
another wire format of ingest_batch is a change of those two functions only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import LiteralString

import psycopg

from bench.public_api import (
    Conn,
    PooledHistogram,
    fold,
    lognormal,
    new_database,
    set_report_time_zones,
)
from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics import queries
from pgmetrics.cells import Cell, RouteCells
from pgmetrics.histogram import Histogram
from pgmetrics.times import hour_start
from pgmetrics.wire import CellArray, CellArrayDumper, route_cell_array

HOUR = datetime(2026, 3, 2, 10, tzinfo=UTC)
EVENTS = 1000
MEDIAN_MS = 20.0
SIGMA = 1.0
GOAL = 0.5

# The wire format of ingest_batch, in one place: the client's, binary typed cell arrays.
INGEST = queries.INGEST_BATCH
EncodedBatch = dict[str, object]


def route_cell_oid(conn: Conn) -> int:
    """The oid of pgmetrics.route_cell, which the binary arrays name; readies ``conn`` to send
    them."""
    conn.adapters.register_dumper(CellArray, CellArrayDumper)
    oids = conn.execute(queries.CELL_TYPES).fetchone()
    assert oids is not None
    return int(str(oids[0]))


def encode_batch(oid: int, route_cells: RouteCells) -> EncodedBatch:
    """The arguments of ingest_batch for ``route_cells`` (all but batch_id), rendered on the
    client as the Python client renders them: a binary pgmetrics.route_cell[]."""
    return {"routes": route_cell_array(route_cells, oid), "operations": None}


def send_encoded(conn: Conn, batch_id: uuid.UUID, encoded: EncodedBatch) -> bool:
    """One ingest_batch call; true when the batch was applied, false when already applied."""
    row = conn.execute(INGEST, {"batch_id": batch_id, **encoded}).fetchone()
    return bool(row and row[0])


def send_batch(conn: Conn, batch_id: uuid.UUID, route_cells: RouteCells) -> bool:
    """Sends ``route_cells`` (pgmetrics.cells cells) as one ingest_batch call."""
    return send_encoded(conn, batch_id, encode_batch(route_cell_oid(conn), route_cells))


def histogram_pool(size: int, events: int = EVENTS, seed: int = 42) -> list[PooledHistogram]:
    """``size`` histograms of ``events`` lognormal durations each (median 20 ms, sigma 1)."""
    rng = random.Random(seed)
    return [PooledHistogram(lognormal(rng, events, MEDIAN_MS, SIGMA)) for _ in range(size)]


def pool_cell(histogram: PooledHistogram, index: int, hour: datetime) -> Cell:
    """A cell whose counts agree with ``histogram``; a few failures, varying with ``index``."""
    return Cell(
        histogram.events,
        histogram.events - index % 7,
        histogram.sum_ms,
        histogram.min_ms,
        histogram.max_ms,
        (hour + timedelta(minutes=59, seconds=59)).timestamp(),
        histogram,
    )


def own_cell(histogram: PooledHistogram, index: int, hour: datetime) -> Cell:
    """pool_cell plus one duration that depends on ``index``, so that no two cells of a batch
    carry the same histogram (the server could otherwise reuse its work on one for the next)."""
    extra = 1.0 + (index * 0.7919) % 400.0
    own = Histogram(dict(histogram.counts), histogram.zero_count)
    own.add(extra)
    return Cell(
        histogram.events + 1,
        histogram.events + 1 - index % 7,
        histogram.sum_ms + extra,
        min(histogram.min_ms, extra),
        max(histogram.max_ms, extra),
        (hour + timedelta(minutes=59, seconds=59)).timestamp(),
        own,
    )


def make_cells(pool: list[PooledHistogram], routes: list[str], hour: datetime) -> RouteCells:
    hour_index = int(hour.timestamp()) // 3600
    return {
        (route, "GET", hour_index): own_cell(pool[i % len(pool)], i, hour)
        for i, route in enumerate(routes)
    }


COPY: LiteralString = (
    "COPY bench_copy (route, method, period_start, total_requests, successful, failed, "
    "total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count, "
    "duration_histogram) FROM STDIN"
)
COPY_TABLE: LiteralString = """
CREATE TABLE bench_copy (
    route text NOT NULL,
    method text NOT NULL,
    period_start timestamptz NOT NULL,
    total_requests bigint NOT NULL,
    successful bigint NOT NULL,
    failed bigint NOT NULL,
    total_duration_ms double precision NOT NULL,
    min_duration_ms double precision NOT NULL,
    max_duration_ms double precision NOT NULL,
    last_request_at timestamptz NOT NULL,
    zero_count bigint NOT NULL,
    duration_histogram int[] NOT NULL,
    PRIMARY KEY (route, method, period_start)
)
"""


def copy_text(route_cells: RouteCells) -> str:
    """The rows of ``route_cells`` in COPY's text format (the same packed int[] histograms)."""
    lines = []
    for (route, method, hour), cell in route_cells.items():
        total, successful, total_ms = cell.total, cell.successful, cell.sum_ms
        low, high, last, histogram = cell.min_ms, cell.max_ms, cell.last_time, cell.histogram
        packed = ",".join(map(str, histogram.to_sql()))
        last_at = datetime.fromtimestamp(last, UTC).isoformat()
        lines.append(
            f"{route}\t{method}\t{hour_start(hour).isoformat()}\t{total}\t{successful}\t"
            f"{total - successful}\t{total_ms!r}\t{low!r}\t{high!r}\t{last_at}\t"
            f"{histogram.zero_count}\t{{{packed}}}\n"
        )
    return "".join(lines)


def time_copy(conn: Conn, text: str) -> float:
    began = time.perf_counter()
    with conn.cursor().copy(COPY) as copy:
        copy.write(text)
    return time.perf_counter() - began


def time_ingest(conn: Conn, encoded: EncodedBatch) -> float:
    began = time.perf_counter()
    applied = send_encoded(conn, uuid.uuid4(), encoded)
    elapsed = time.perf_counter() - began
    assert applied, "a new batch_id was not applied"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=4000, help="cells per ingest_batch call")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pool", type=int, default=256, help="distinct histograms")
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    pool = histogram_pool(args.pool)
    buckets = statistics.mean(len(h.counts) for h in pool)
    elements = statistics.mean(len(h.to_sql()) for h in pool)
    routes = [f"/api/resource{i:05d}/{{id}}" for i in range(args.cells)]
    times: dict[str, list[float]] = {"insert": [], "update": [], "copy": [], "encode": []}
    folds: list[float] = []
    with LocalCluster(durable=True, settings={"synchronous_commit": "on"}) as cluster:
        dsn = new_database(cluster, "bench")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(COPY_TABLE)
            zones = set_report_time_zones(conn)
            oid = route_cell_oid(conn)
            # One small untimed batch each: the first call of a session plans its statements.
            warm = make_cells(pool, routes[:100], HOUR - timedelta(hours=1))
            send_batch(conn, uuid.uuid4(), warm)
            fold(conn)
            time_copy(conn, copy_text(warm))
            for run in range(args.runs):
                cells = make_cells(pool, routes, HOUR + timedelta(hours=run))
                began = time.perf_counter()
                encoded = encode_batch(oid, cells)
                times["encode"].append(time.perf_counter() - began)
                text = copy_text(cells)
                times["insert"].append(time_ingest(conn, encoded))
                # The same keys again once folded: they are stored now.
                folded = fold(conn)
                times["update"].append(time_ingest(conn, encoded))
                folded_again = fold(conn)
                if folded is not None and folded_again is not None:
                    folds.append((folded + folded_again) / 2)
                times["copy"].append(time_copy(conn, text))
    rate = {name: args.cells / statistics.median(samples) for name, samples in times.items()}
    lines = [
        f"{args.cells:,} cells per call, each the histogram of {EVENTS:,} lognormal durations "
        f"(median {MEDIAN_MS:g} ms, sigma {SIGMA:g}; {buckets:.0f} buckets, {elements:.0f} "
        f"packed elements a cell on average; {args.pool} distinct histograms assigned "
        f"round-robin), median of {args.runs} runs, synchronous_commit on; both sides rendered "
        f"before timing; {zones}",
        "",
        f"| write | cells/s | against COPY | goal >= {GOAL}x |",
        "|---|---|---|---|",
        f"| COPY (text) into a plain table with the same primary key | {rate['copy']:,.0f} "
        "| 1.00x | |",
    ]
    for name, label in (("insert", "new keys"), ("update", "keys already stored")):
        ratio = rate[name] / rate["copy"]
        verdict = "met" if ratio >= GOAL else "NOT met"
        lines.append(f"| ingest_batch, {label} | {rate[name]:,.0f} | {ratio:.2f}x | {verdict} |")
    lines += [
        "",
        f"Client side, not timed above: rendering a batch to its ingest_batch arguments took "
        f"{statistics.median(times['encode']) * 1000:,.0f} ms ({rate['encode']:,.0f} cells/s).",
    ]
    if folds:
        fold_ms = statistics.median(folds) * 1000
        both = statistics.median(times["insert"]) + statistics.median(times["update"])
        lines.append(
            f"fold_events() after each batch, not timed above: {fold_ms:,.1f} ms "
            f"({args.cells / (fold_ms / 1000):,.0f} cells/s); ingest and fold together: "
            f"{2 * args.cells / (both + 2 * fold_ms / 1000):,.0f} cells/s."
        )
    else:
        lines.append("This schema has no fold_events().")
    print("\n".join(lines))
    if not args.no_append:
        append_results("ingest_batch against COPY, realistic histograms", lines)


if __name__ == "__main__":
    main()
