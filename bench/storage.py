"""Bytes per hourly row with its duration histogram (goal: <= 1 KB), against the same rows
without one, in the same run.

Lognormal latencies at 1,000 requests an hour per key (median 50 ms, sigma 0.5 to 1.0) are
written through ingest_batch (its JSON form) for --keys keys x 24 hours; the baseline is the
same cells with every duration zero, so that their histograms are empty. ingest_batch only stages
the cells in pgmetrics.route_cells, so pgmetrics.fold_events() then moves them into the hourly
table (and the rollups), which writes each row with its histogram and its stored p50/p95/p99
(duration_quantiles, now a plain column the fold fills). Sizes are read back from PostgreSQL:
pg_column_size of whole hourly rows (heap tuple, after in-line compression), and the hourly
table's heap plus TOAST bytes per row, with and without its indexes.

    python -m bench.storage [--keys 200]
"""

from __future__ import annotations

import argparse
import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import psycopg
from psycopg.types.json import Jsonb

from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy
from pgmetrics.histogram import Histogram

DAY = datetime(2026, 3, 2, tzinfo=UTC)
PER_HOUR = 1_000
GOAL = 1024

# The JSON form of ingest_batch: the untyped arguments are cast, to choose it over the overload
# taking typed cell arrays.
INGEST_JSON = (
    "SELECT pgmetrics.ingest_batch(%(batch_id)s, %(routes)s::jsonb, %(operations)s::jsonb)"
)


def _cells(keys: int, sigma: float | None, rng: random.Random) -> list[dict[str, object]]:
    cells = []
    for hour in range(24):
        start = DAY + timedelta(hours=hour)
        for key in range(keys):
            if sigma is None:
                durations = [0.0] * PER_HOUR
            else:
                durations = [rng.lognormvariate(math.log(50.0), sigma) for _ in range(PER_HOUR)]
            cells.append(
                {
                    "r": f"/route/{key}",
                    "m": "GET",
                    "h": start.isoformat(),
                    "n": PER_HOUR,
                    "s": PER_HOUR,
                    "f": 0,
                    "d": sum(durations),
                    "lo": min(durations),
                    "hi": max(durations),
                    "t": (start + timedelta(minutes=59)).isoformat(),
                    **Histogram.of(durations).to_json(),
                }
            )
    return cells


def _sizes(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[float, float, float, float]:
    conn.execute("VACUUM ANALYZE pgmetrics.route_metrics")
    row = conn.execute(
        """
        SELECT avg(pg_column_size(m.*)), avg(cardinality(m.duration_histogram)),
               (SELECT sum(pg_table_size(t.relid))
                FROM pg_partition_tree('pgmetrics.route_metrics') AS t)::float8 / count(*),
               (SELECT sum(pg_total_relation_size(t.relid))
                FROM pg_partition_tree('pgmetrics.route_metrics') AS t)::float8 / count(*)
        FROM pgmetrics.route_metrics AS m
        """
    ).fetchone()
    assert row is not None
    size, buckets, table, total = (float(cast("float", value)) for value in row)
    return size, buckets, table, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(6)
    figures: dict[str, tuple[float, float, float, float]] = {}
    with LocalCluster(durable=False) as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        deploy(cluster.dsn("bench"))
        with psycopg.connect(cluster.dsn("bench"), autocommit=True) as conn:
            for label, sigma in (
                ("no histogram", None),
                ("sigma 0.5", 0.5),
                ("sigma 0.75", 0.75),
                ("sigma 1.0", 1.0),
            ):
                conn.execute(
                    "TRUNCATE pgmetrics.route_metrics, pgmetrics.route_metrics_rollup, "
                    "pgmetrics.route_cells"
                )
                conn.execute(
                    INGEST_JSON,
                    {
                        "batch_id": uuid.uuid4(),
                        "routes": Jsonb(_cells(args.keys, sigma, rng)),
                        "operations": None,
                    },
                )
                conn.execute("SELECT pgmetrics.fold_events()")
                figures[label] = _sizes(conn)
    base = figures["no histogram"]
    lines = [
        f"{args.keys} keys x 24 hours, {PER_HOUR:,} lognormal requests an hour per key (median "
        "50 ms), written by ingest_batch and folded into the hourly table; the baseline is the "
        "same rows with empty histograms",
        "",
        "| rows | buckets per row | row (pg_column_size) | table bytes per row | with indexes "
        "| row against baseline | goal <= 1 KB a row |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, (row, buckets, table, total) in figures.items():
        verdict = "" if label == "no histogram" else ("met" if row <= GOAL else "NOT met")
        lines.append(
            f"| {label} | {buckets:.0f} | {row:.0f} B | {table:.0f} B | {total:.0f} B "
            f"| {row / base[0]:.2f}x | {verdict} |"
        )
    print("\n".join(lines))
    append_results("Bytes per hourly row with its duration histogram", lines)


if __name__ == "__main__":
    main()
