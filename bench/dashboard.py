"""The dashboard's reads at --keys (2,000) keys against a plain GROUP BY of the same counts, in the
same run (goal: the page's data in under a second).

Data: --keys route keys (routes x GET/POST) x --days days (default 2) of hourly cells ending at
bench.reads.END, each the histogram of --events (300) lognormal durations from a pool of --pool
(64), sent through ingest_batch and folded, as bench.reads loads them; the baseline table
bench_plain holds the same counts without histograms (bench.reads.PLAIN_LOAD).

Timed, in the client, --runs times alternating with the baseline, medians compared:
- the page: pgmetrics.web.dashboard.data.read for the last 24 hours by hour (every key over the
  range and the period before, the merged histogram of both, the series of the five busiest
  keys): what GET /dashboard/data runs;
- a key's page: the same for one route;
- the baseline: the GROUP BYs of the same counts (per key over the range and the period before,
  per hour over the range), fetched the same way.

    python -m bench.dashboard [--keys 2000] [--days 2] [--events 300] [--runs 5] [--no-append]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row

from bench.ingest import encode_batch, histogram_pool, route_cell_oid, send_encoded
from bench.public_api import fmt_ms, fold, median_ms, new_database
from bench.reads import END, ONE_ROUTE, PLAIN_LOAD, PLAIN_TABLES, _cells
from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.web.dashboard.data import Key, Window, read

GOAL_MS = 1000.0
BASELINE: tuple[LiteralString, ...] = (
    """SELECT route, method, sum(total), sum(failed), sum(sum_ms), min(min_ms), max(max_ms)
       FROM bench_plain WHERE hour >= %(start)s AND hour < %(end)s GROUP BY 1, 2""",
    """SELECT route, method, sum(total), sum(failed), sum(sum_ms), min(min_ms), max(max_ms)
       FROM bench_plain WHERE hour >= %(before)s AND hour < %(start)s GROUP BY 1, 2""",
    """SELECT hour, sum(total), sum(failed)
       FROM bench_plain WHERE hour >= %(start)s AND hour < %(end)s GROUP BY 1 ORDER BY 1""",
)


def _load(conn: psycopg.Connection[Any], keys: int, days: int, events: int, pool_size: int) -> str:
    pool = histogram_pool(pool_size, events)
    first = END - timedelta(days=days)
    oid = route_cell_oid(conn)
    total = keys * days * 24
    began = time.perf_counter()
    for lo in range(0, total, 4000):
        cells = _cells(pool, keys, first, lo, min(lo + 4000, total))
        send_encoded(conn, uuid.uuid4(), encode_batch(oid, cells))
    loaded = time.perf_counter() - began
    folded = fold(conn) or 0.0
    for statement in PLAIN_TABLES:
        conn.execute(statement)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO bench_pool VALUES (%s, %s, %s, %s, %s)",
            [(i, h.events, h.sum_ms, h.min_ms, h.max_ms) for i, h in enumerate(pool)],
        )
    conn.execute(
        PLAIN_LOAD, {"first": first, "h0": 0, "h1": days * 24, "keys": keys, "pool": pool_size}
    )
    conn.execute("VACUUM ANALYZE")
    buckets = sum(len(h.counts) for h in pool) / len(pool)
    return (
        f"{keys:,} keys x {days} days = {total:,} hourly cells of {events} durations "
        f"({buckets:.0f} buckets on average), loaded through ingest_batch in {loaded:.0f} s, "
        f"folded in {folded:.1f} s"
    )


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--events", type=int, default=300, help="durations per cell")
    parser.add_argument("--pool", type=int, default=64, help="distinct histograms")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    window = Window(END - timedelta(hours=24), END, "UTC", "hour", "24h")
    params = {"start": window.start, "end": window.end, "before": window.previous.start}
    shapes: list[tuple[str, Key]] = [
        ("the page: 24 h by hour and the 24 h before, every key", Key()),
        ("a route's page: 24 h by hour and the 24 h before", Key(route=ONE_ROUTE, method="GET")),
    ]
    with LocalCluster(durable=True) as cluster:
        dsn = new_database(cluster, "bench_dashboard")
        with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as loading:
            notes = _load(loading, args.keys, args.days, args.events, args.pool)
        print(notes, flush=True)
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:

            def baseline() -> None:
                for query in BASELINE:
                    conn.execute(query, params).fetchall()

            def page(key: Key) -> None:
                read(conn, "routes", window, key)

            results: list[tuple[str, int, float, float]] = []
            for name, key in shapes:
                page(key)
                baseline()
                ours: list[float] = []
                plain: list[float] = []
                for _ in range(args.runs):
                    ours.append(_timed(lambda key=key: page(key)))  # type: ignore[misc]
                    plain.append(_timed(baseline))
                rows = len(read(conn, "routes", window, key)["keys"])
                results.append((name, rows, median_ms(ours), median_ms(plain)))
                print(f"  {name}: {fmt_ms(results[-1][2])} against {fmt_ms(results[-1][3])}")
    lines = [
        f"Hourly cells ending {END:%Y-%m-%d %H:%M} UTC; {notes}. Median client time of "
        f"{args.runs} runs, alternating with the baseline: the plain GROUP BYs of the same counts "
        "(per key over the range and the 24 h before, per hour over the range; no histograms).",
        "",
        f"| read | keys shown | pgmetrics | GROUP BY (baseline) | ratio | goal < {GOAL_MS:g} ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows, ours_ms, plain_ms in results:
        verdict = "met" if ours_ms < GOAL_MS else "NOT met"
        lines.append(
            f"| {name} | {rows:,} | {fmt_ms(ours_ms)} | {fmt_ms(plain_ms)} "
            f"| {ours_ms / plain_ms:.1f}x "
            f"| {verdict} |"
        )
    print("\n".join(lines))
    if not args.no_append:
        append_results("The dashboard's reads against GROUP BY", lines)


if __name__ == "__main__":
    main()
