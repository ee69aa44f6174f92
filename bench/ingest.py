"""ingest_batch merge speed against COPY of the same rows into a table keyed like the hourly
one, in the same run (goal: >= 0.7x the rows per second of COPY).

Both sides write N distinct (route, method, hour) cells: ingest_batch as one call with its
jsonb cells (validation, the merge, and the daily tier's triggers included), COPY into a
table made LIKE pgmetrics.route_metrics INCLUDING ALL (same key, index and checks, no
triggers). ingest_batch is timed twice: inserting new cells, and adding to existing ones.

    python -m bench.ingest [--cells 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from bench.results import append_results
from pgmetrics import queries
from pgmetrics.deploy import deploy
from pgmetrics.histogram import Histogram
from pgmetrics.localcluster import LocalCluster

HOUR = datetime(2026, 3, 2, 10, tzinfo=UTC)
# The ten durations of every cell: sum 123.5, min 1.5, max 40.25.
DURATIONS = Histogram.of([1.5, 5.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 19.75, 40.25])
GOAL = 0.7


def cells(count: int, hour: datetime) -> list[dict[str, object]]:
    return [
        {
            "r": f"/route/{index}",
            "m": "GET",
            "h": hour.isoformat(),
            "n": 10,
            "s": 9,
            "f": 1,
            "d": 123.5,
            "lo": 1.5,
            "hi": 40.25,
            "t": (hour + timedelta(minutes=59)).isoformat(),
            **DURATIONS.to_json(),
        }
        for index in range(count)
    ]


def copy_rows(count: int, hour: datetime) -> list[tuple[object, ...]]:
    last = hour + timedelta(minutes=59)
    return [
        (
            f"/route/{i}",
            "GET",
            hour,
            hour + timedelta(hours=1),
            10,
            9,
            1,
            123.5,
            1.5,
            40.25,
            last,
            DURATIONS.zero_count,
            DURATIONS.to_sql(),
        )
        for i in range(count)
    ]


def time_ingest(
    conn: psycopg.Connection[tuple[object, ...]], batch: list[dict[str, object]]
) -> float:
    began = time.perf_counter()
    conn.execute(
        queries.INGEST_BATCH, {"batch_id": uuid.uuid4(), "routes": Jsonb(batch), "operations": None}
    )
    return time.perf_counter() - began


def time_copy(
    conn: psycopg.Connection[tuple[object, ...]], rows: list[tuple[object, ...]]
) -> float:
    began = time.perf_counter()
    with conn.cursor().copy(
        "COPY bench_copy (route, method, period_start, period_end, total_requests, successful, "
        "failed, total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count, "
        "duration_histogram) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    inserts: list[float] = []
    updates: list[float] = []
    copies: list[float] = []
    with LocalCluster(durable=True, settings={"synchronous_commit": "on"}) as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        deploy(cluster.dsn("bench"))
        with psycopg.connect(cluster.dsn("bench"), autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_copy (LIKE pgmetrics.route_metrics INCLUDING ALL)")
            # Alternating the three kinds of run spreads the machine's other load over all three.
            for run in range(args.runs):
                hour = HOUR + timedelta(hours=run)
                batch = cells(args.cells, hour)
                inserts.append(time_ingest(conn, batch))
                updates.append(time_ingest(conn, batch))
                copies.append(time_copy(conn, copy_rows(args.cells, hour)))
    rate = {
        name: args.cells / statistics.median(samples)
        for name, samples in (("insert", inserts), ("update", updates), ("copy", copies))
    }
    lines = [
        f"{args.cells:,} distinct cells per call, median of {args.runs} runs, "
        "synchronous_commit on",
        "",
        "| write | rows/s | against COPY | goal >= 0.7x |",
        "|---|---|---|---|",
        f"| COPY into a table keyed like route_metrics | {rate['copy']:,.0f} | 1.00x | |",
    ]
    for name, label in (("insert", "new cells"), ("update", "cells already stored")):
        ratio = rate[name] / rate["copy"]
        verdict = "met" if ratio >= GOAL else "NOT met"
        lines.append(f"| ingest_batch, {label} | {rate[name]:,.0f} | {ratio:.2f}x | {verdict} |")
    print("\n".join(lines))
    append_results("ingest_batch merge against COPY", lines)


if __name__ == "__main__":
    main()
