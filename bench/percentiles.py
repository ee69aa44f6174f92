"""What p50 / p95 / p99 cost the summaries: the same reads over the same rows, with their duration
histograms and without (the baseline), in the same run.

Two databases of one throwaway durable cluster get --keys route keys x --days days of hourly
cells, staged in pgmetrics.route_cells in time order and folded by pgmetrics.fold_events() after
each day, as a scheduled fold would, so that the hourly table and the rollups (UTC day, ISO week,
month) are built as in production, each row with its stored p50/p95/p99. The daily tier and its
triggers of the first release are gone: reads by UTC day and week now take the rollup rows.
In one database, every cell holds the histogram of 1,000 lognormal latencies (sigma 0.5 or 1.0,
medians from 5 ms to 800 ms: a pool of 240 histograms drawn once); in the other, the same counts
with empty histograms. Each read is timed on both, alternating; the ratio is with / without.
The fold itself is not timed here (bench.ingest and bench.backfill measure it).

    python -m bench.percentiles [--keys 2000] [--days 7] [--runs 7]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import LiteralString

import psycopg
from psycopg import sql

from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy
from pgmetrics.histogram import Histogram

END = datetime(2026, 11, 29, tzinfo=UTC)
POOL = 240

FILL = """
INSERT INTO pgmetrics.route_cells (
    route, method, period_start, total_requests, successful, total_duration_ms,
    min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
)
SELECT
    '/api/resource' || lpad(k::text, 4, '0'), 'GET', h, p.n, p.n,
    p.total, p.min_ms, p.max_ms, h + interval '59 minutes', 0,
    CASE WHEN %(histograms)s THEN p.packed ELSE '{}' END
FROM generate_series(0, %(keys)s - 1) AS k
CROSS JOIN LATERAL (SELECT %(hour)s::timestamptz AS h) AS t
JOIN pool AS p ON p.id = (k * 7 + extract(epoch FROM %(hour)s::timestamptz)::bigint / 3600) %% 240
ORDER BY k
"""

READS: list[tuple[str, LiteralString, dict[str, object]]] = [
    (
        "{days} days by day, every key (UTC day rollup rows as stored)",
        "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'day')",
        {},
    ),
    (
        "{days} days by week, every key (week rollups; hours at the edges merged)",
        "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'week')",
        {},
    ),
    (
        "{days} days by day in America/New_York, every key (24 hours merged per key and day)",
        "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'day', "
        "tz => 'America/New_York')",
        {},
    ),
    (
        "24 hours by hour, every key (hourly rows as stored)",
        "SELECT * FROM pgmetrics.route_metrics_summary(%(end)s - interval '1 day', %(end)s)",
        {},
    ),
    (
        "{days} days by hour, one route",
        "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'hour', "
        "'/api/resource0042')",
        {},
    ),
    (
        "route_duration_quantile(0.99) over {days} days, one route",
        "SELECT pgmetrics.route_duration_quantile(0.99, %(start)s, %(end)s, '/api/resource0042')",
        {},
    ),
    (
        "route_duration_quantile(0.99) over {days} days, every key together",
        "SELECT pgmetrics.route_duration_quantile(0.99, %(start)s, %(end)s)",
        {},
    ),
]


def _load_pool(conn: psycopg.Connection[tuple[object, ...]]) -> float:
    rng = random.Random(42)
    conn.execute(
        "CREATE TABLE pool (id int PRIMARY KEY, n bigint, total float8, min_ms float8, "
        "max_ms float8, packed int[])"
    )
    buckets = 0
    with conn.cursor() as cur:
        for i in range(POOL):
            median = math.exp(rng.uniform(math.log(5.0), math.log(800.0)))
            sigma = 0.5 if i % 2 else 1.0
            values = [rng.lognormvariate(math.log(median), sigma) for _ in range(1000)]
            histogram = Histogram.of(values)
            buckets += len(histogram.counts)
            cur.execute(
                "INSERT INTO pool VALUES (%s, %s, %s, %s, %s, %s)",
                (i, len(values), sum(values), min(values), max(values), histogram.to_sql()),
            )
    return buckets / POOL


def _fill(conn: psycopg.Connection[tuple[object, ...]], keys: int, days: int, full: bool) -> None:
    start = END - timedelta(days=days)
    for hour in range(days * 24):
        conn.execute(
            FILL, {"keys": keys, "hour": start + timedelta(hours=hour), "histograms": full}
        )
        if hour % 24 == 23:
            conn.execute("SELECT pgmetrics.fold_events()")
    pending = conn.execute("SELECT count(*) FROM pgmetrics.route_cells").fetchone()
    assert pending == (0,), f"{pending} cells left unfolded"
    conn.execute("VACUUM ANALYZE")


def _time(conn: psycopg.Connection[tuple[object, ...]], query: LiteralString, days: int) -> float:
    began = time.perf_counter()
    conn.execute(query, {"start": END - timedelta(days=days), "end": END}).fetchall()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, dict[bool, list[float]]] = {name: {True: [], False: []} for name, *_ in READS}
    with LocalCluster(durable=True) as cluster:
        conns: dict[bool, psycopg.Connection[tuple[object, ...]]] = {}
        for full in (True, False):
            name = "with_histograms" if full else "without"
            with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            deploy(cluster.dsn(name))
            conns[full] = psycopg.connect(cluster.dsn(name), autocommit=True)
            buckets = _load_pool(conns[full])
            _fill(conns[full], args.keys, args.days, full)
        try:
            for _ in range(args.runs):
                for name, query, _params in READS:
                    for full in (True, False):
                        times[name][full].append(_time(conns[full], query, args.days))
        finally:
            for conn in conns.values():
                conn.close()
    lines = [
        f"{args.keys:,} route keys x {args.days} days of hourly rows, about {buckets:.0f} "
        f"histogram buckets a row; median of {args.runs} runs each",
        "",
        "| read | with percentiles | without (baseline) | ratio |",
        "|---|---|---|---|",
    ]
    for name, *_ in READS:
        with_ms = statistics.median(times[name][True]) * 1000
        without_ms = statistics.median(times[name][False]) * 1000
        lines.append(
            f"| {name.format(days=args.days)} | {with_ms:.1f} ms | {without_ms:.1f} ms "
            f"| {with_ms / without_ms:.1f}x |"
        )
    print("\n".join(lines))
    append_results("What percentiles cost the summaries", lines)


if __name__ == "__main__":
    main()
