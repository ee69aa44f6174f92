"""Fold of a bulk of full-hour cells: fold_events() against an INSERT ... SELECT of the same
hourly rows, histograms included, into a plain keyed table, in the same run.

--keys route keys (routes x GET/POST) x --days days (default 200 x 9) of hourly cells, each
the histogram of 1,000 lognormal durations (median 20 ms, sigma 1: about 225 buckets; a pool of
64 histograms assigned round-robin, as bench.reads loads them), sent through ingest_batch in
batches of 4,000 cells in time order, with the report zones America/New_York and Asia/Kolkata:
one fold_events() then writes each cell's hourly row and the UTC days, ISO weeks, months and
local days that hold it (6 tiers). The baseline copies the staged cells, just before that fold,
into a plain table keyed (route, method, hour) with their histograms: the same hourly rows
written once, no rollup. Each run is a fresh database; --runs runs, medians compared.

    python -m bench.fold_bulk [--keys 200] [--days 9] [--runs 1] [--no-append]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import timedelta
from typing import LiteralString

import psycopg

from bench.ingest import encode_batch, histogram_pool, route_cell_oid, send_encoded
from bench.public_api import Conn, fold, new_database, set_report_time_zones
from bench.reads import END, _batches, _cells
from bench.results import append_results
from devtools.localcluster import LocalCluster

BASELINE: LiteralString = """
CREATE TABLE bench_hours AS
SELECT c.route, c.method, c.period_start, c.total_requests, c.successful, c.total_duration_ms,
       c.min_duration_ms, c.max_duration_ms, c.last_request_at, c.zero_count, c.duration_histogram
FROM pgmetrics.route_cells AS c
WITH NO DATA
"""
BASELINE_KEY: LiteralString = (
    "ALTER TABLE bench_hours ADD PRIMARY KEY (route, method, period_start)"
)
BASELINE_COPY: LiteralString = "INSERT INTO bench_hours SELECT * FROM pgmetrics.route_cells"
COUNTED: LiteralString = """
SELECT count(*), sum(total_requests), sum(cardinality(duration_histogram))
FROM pgmetrics.route_metrics
"""
COUNTED_BASELINE: LiteralString = """
SELECT count(*), sum(total_requests), sum(cardinality(duration_histogram))
FROM bench_hours
"""


def _run(cluster: LocalCluster, run: int, keys: int, days: int) -> tuple[float, float, str, int]:
    dsn = new_database(cluster, f"bench_fold_bulk_{run}")
    pool = histogram_pool(64)
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        zones = set_report_time_zones(conn)
        oid = route_cell_oid(conn)
        first = END - timedelta(days=days)
        for lo, hi in _batches(keys, days, 4000):
            send_encoded(conn, uuid.uuid4(), encode_batch(oid, _cells(pool, keys, first, lo, hi)))
        conn.execute(BASELINE)
        conn.execute(BASELINE_KEY)
        conn.execute("CHECKPOINT")
        began = time.perf_counter()
        conn.execute(BASELINE_COPY)
        baseline = time.perf_counter() - began
        conn.execute("CHECKPOINT")
        folded = fold(conn)
        assert folded is not None, "the schema has no fold_events()"
        elements = _check(conn, keys * days * 24)
    return folded, baseline, zones, elements


def _check(conn: Conn, cells: int) -> int:
    """The histogram elements written to the hourly tier, after checking its rows against the
    cells sent and the baseline's copy of them."""
    row = conn.execute(COUNTED).fetchone()
    plain = conn.execute(COUNTED_BASELINE).fetchone()
    assert row is not None
    assert row == plain, f"hourly tier {row}, cells {plain}"
    assert row[0] == cells, f"{row[0]} hourly rows, {cells} cells sent"
    return int(str(row[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--days", type=int, default=9)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    folds: list[float] = []
    baselines: list[float] = []
    zones, elements = "", 0
    with LocalCluster(durable=True) as cluster:
        for run in range(args.runs):
            folded, baseline, zones, elements = _run(cluster, run, args.keys, args.days)
            folds.append(folded)
            baselines.append(baseline)
            print(f"  run {run + 1}: fold {folded:.1f} s, baseline {baseline:.2f} s", flush=True)
    cells = args.keys * args.days * 24
    fold_s, baseline_s = statistics.median(folds), statistics.median(baselines)
    lines = [
        f"{args.keys:,} keys x {args.days} days = {cells:,} hourly cells of 1,000 lognormal "
        f"durations (median 20 ms, sigma 1; {elements / cells:.0f} buckets a cell, "
        f"{elements:,} in all), staged by ingest_batch, then one fold_events(); {zones}. "
        f"Baseline: INSERT ... SELECT of the staged cells into a plain table keyed (route, "
        f"method, hour), histograms included. Median of {args.runs} run(s), fsync on.",
        "",
        "| fold_events | cells/s | buckets/s | baseline INSERT | fold against baseline |",
        "|---|---|---|---|---|",
        f"| {fold_s:.1f} s | {cells / fold_s:,.0f} | {elements / fold_s:,.0f} "
        f"| {baseline_s:.2f} s | {fold_s / baseline_s:.0f}x |",
    ]
    print("\n".join(lines))
    if not args.no_append:
        append_results("Fold of a bulk of full-hour cells", lines)


if __name__ == "__main__":
    main()
