"""What the database absorbs: ingest_batch and the fold that makes the cells readable, timed
together, against COPY of identical rows into a plain keyed table, in the same run.

Each cell is one (route, GET, UTC hour) holding the histogram of 1,000 lognormal durations
(median 20 ms, sigma 1: about 223 buckets), sent as the Python client sends it (binary
``pgmetrics.route_cell[]``), --cells cells (default 4,000) per ingest_batch call. Four cases,
each as a batch of new keys, then the same cells again under a new batch_id (keys stored):

- **hour under way:** cells of the current UTC hour. Each batch is followed by fold_events().
  The hour's rows go into the rollups once, when the hour is over: that roll-up
  (``_fold_events(true, <next hour>)``) is timed too and its time shared by the two batches.
- **hour that is over:** cells of an hour of yesterday (late data, a replayed spool, a
  backfill), each batch followed by fold_events(), which writes every tier.

Report zones America/New_York and Asia/Kolkata are set, so an hour that is over feeds six
tiers (hour, UTC day, ISO week, month, two local days). The baseline is COPY (text format) of
the same rows (same counts, same packed int[] histogram) into a table keyed (route, method,
period_start); both sides are rendered before the clock starts. Every run uses keys of its own,
so "new keys" are new; the cases alternate with COPY, so the machine's other load weighs on
all. synchronous_commit on.

    python -m bench.absorb [--cells 4000] [--runs 3] [--pool 256] [--no-append]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import datetime, timedelta

import psycopg

from bench.ingest import (
    COPY_TABLE,
    EVENTS,
    MEDIAN_MS,
    SIGMA,
    copy_text,
    encode_batch,
    histogram_pool,
    make_cells,
    route_cell_oid,
    send_encoded,
    time_copy,
)
from bench.public_api import Conn, new_database, set_report_time_zones
from bench.results import append_results
from devtools.localcluster import LocalCluster

GOAL = 0.25


def current_hour(conn: Conn) -> datetime:
    row = conn.execute("SELECT date_trunc('hour', now(), 'UTC')").fetchone()
    assert row is not None
    assert isinstance(row[0], datetime)
    return row[0]


def ingest_and_fold(conn: Conn, encoded: dict[str, object]) -> float:
    began = time.perf_counter()
    applied = send_encoded(conn, uuid.uuid4(), encoded)
    conn.execute("SELECT pgmetrics.fold_events()")
    elapsed = time.perf_counter() - began
    assert applied, "a new batch_id was not applied"
    return elapsed


def roll_up(conn: Conn, until: datetime) -> float:
    """Seconds of the fold that rolls the hours before ``until`` up, as the first fold after an
    hour ends does."""
    began = time.perf_counter()
    conn.execute("SELECT pgmetrics._fold_events(true, %s)", (until,))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=4000, help="cells per ingest_batch call")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pool", type=int, default=256, help="distinct histograms")
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    pool = histogram_pool(args.pool)
    buckets = statistics.mean(len(h.counts) for h in pool)
    cases = ("now new", "now stored", "over new", "over stored")
    seconds: dict[str, list[float]] = {case: [] for case in (*cases, "copy", "roll")}
    with LocalCluster(durable=True, settings={"synchronous_commit": "on"}) as cluster:
        dsn = new_database(cluster, "bench")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(COPY_TABLE)
            zones = set_report_time_zones(conn)
            oid = route_cell_oid(conn)
            hour = current_hour(conn)
            past = hour - timedelta(days=1)
            # Untimed: the first call of a session plans its statements.
            warm = make_cells(pool, [f"/warm/{i}" for i in range(100)], past)
            ingest_and_fold(conn, encode_batch(oid, warm))
            time_copy(conn, copy_text(warm))
            for run in range(args.runs):
                routes = [f"/api/r{run}/resource{i:05d}/{{id}}" for i in range(args.cells)]
                now_cells = encode_batch(oid, make_cells(pool, routes, hour))
                late = make_cells(pool, routes, past + timedelta(hours=run))
                over_cells = encode_batch(oid, late)
                text = copy_text(late)
                seconds["now new"].append(ingest_and_fold(conn, now_cells))
                seconds["now stored"].append(ingest_and_fold(conn, now_cells))
                seconds["copy"].append(time_copy(conn, text))
                seconds["over new"].append(ingest_and_fold(conn, over_cells))
                seconds["over stored"].append(ingest_and_fold(conn, over_cells))
            # The hour under way goes into the rollups once it is over: every run's cells at once.
            seconds["roll"].append(roll_up(conn, hour + timedelta(hours=1)) / args.runs)
    copy_rate = args.cells / statistics.median(seconds["copy"])
    roll_share = statistics.median(seconds["roll"]) / 2
    lines = [
        f"{args.cells:,} cells per ingest_batch call, each the histogram of {EVENTS:,} lognormal "
        f"durations (median {MEDIAN_MS:g} ms, sigma {SIGMA:g}; {buckets:.0f} buckets on average, "
        f"{args.pool} distinct histograms round-robin, one duration of its own per cell); "
        f"{zones}; median of {args.runs} runs, synchronous_commit on. Each ingest_batch is "
        "followed by fold_events(), timed together. For the hour under way, the roll-up once the "
        f"hour is over took {roll_share * 2 * 1000:,.0f} ms a run, shared by its two batches.",
        "",
        f"| case | ingest + fold | cells/s | against COPY | goal >= {GOAL}x |",
        "|---|---|---|---|---|",
        f"| COPY (text) into a plain keyed table | {statistics.median(seconds['copy']) * 1000:,.0f}"
        f" ms | {copy_rate:,.0f} | 1.00x | |",
    ]
    labels = {
        "now new": "hour under way, new keys (+ roll-up share)",
        "now stored": "hour under way, stored keys (+ roll-up share)",
        "over new": "hour that is over, new keys",
        "over stored": "hour that is over, stored keys",
    }
    for case in cases:
        elapsed = statistics.median(seconds[case]) + (roll_share if case.startswith("now") else 0)
        ratio = args.cells / elapsed / copy_rate
        verdict = "met" if ratio >= GOAL else "NOT met"
        lines.append(
            f"| {labels[case]} | {elapsed * 1000:,.0f} ms | {args.cells / elapsed:,.0f} "
            f"| {ratio:.3f}x | {verdict} |"
        )
    print("\n".join(lines))
    if not args.no_append:
        append_results("ingest_batch and fold_events together against COPY", lines)


if __name__ == "__main__":
    main()
