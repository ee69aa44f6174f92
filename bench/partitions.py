"""Retention on the hourly tier partitioned by UTC day, against today's DELETE on the same rows,
in the same run: 30 daily cycles with no VACUUM.

Two databases of one cluster, with autovacuum off so that neither gets a VACUUM:

- partitioned: the schema deployed to the newest change; run_retention drops expired days as
  partitions;
- unpartitioned: the schema deployed to @v0.2.0, whose run_retention deletes the expired rows.

Both are filled with the same hourly rows, --keys routes x 24 hours x --days days (retention_days
= --days), written set-based on the server with generate_series straight into
pgmetrics.route_metrics (no client round trip per row, no fold). Each row takes one of 64
histograms of 1,000 lognormal durations (median 20 ms, sigma 1, about 225 buckets, about 1 KB a
row), built once in SQL with a fixed seed, with its stored p50/p95/p99; operation_metrics and the
rollups stay empty, so the runs time the hourly tier's expiry alone.

Each cycle writes one more day of rows into both, checkpoints, then times run_retention at the end
of that day in each (alternating which goes first, so that load from elsewhere on the machine falls
on both alike): one day of rows expires in each. Per cycle it prints both times and both tiers'
sizes (pg_total_relation_size over the partition tree: heap, TOAST and indexes). Flat means the
last cycles cost and weigh what the first did.

    python -m bench.partitions [--keys 2000] [--days 90] [--cycles 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy, sqitch

START = datetime(2026, 1, 1, tzinfo=UTC)
POOL = 64

# setseed makes both databases build the same pool.
MAKE_POOL = """
CREATE TABLE public.bench_pool AS
WITH durations AS (
    SELECT
        i,
        array_agg(
            exp(ln(20) + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
        ) AS d
    FROM (SELECT setseed(0.17)) AS seed, generate_series(0, %(pool)s - 1) AS i,
         generate_series(1, 1000) AS j
    GROUP BY i
)
SELECT
    i,
    cardinality(d) AS n,
    (SELECT sum(x) FROM unnest(d) AS x) AS total,
    (SELECT min(x) FROM unnest(d) AS x) AS lo,
    (SELECT max(x) FROM unnest(d) AS x) AS hi,
    pgmetrics._histogram_of(d) AS histogram
FROM durations
"""

QUANTILES = """
ALTER TABLE public.bench_pool ADD COLUMN quantiles double precision[];
UPDATE public.bench_pool
SET quantiles = pgmetrics._histogram_quantiles(histogram, 0, '{0.5,0.95,0.99}', lo, hi)
"""

LOAD_DAY = """
INSERT INTO pgmetrics.route_metrics (
    route, method, period_start, period_end, total_requests, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_request_at, zero_count,
    duration_histogram, duration_quantiles
)
SELECT
    '/route/' || k, 'GET', h, h + interval '1 hour', p.n, p.n - 2, 2,
    p.total, p.lo, p.hi, h + interval '59 minutes', 0, p.histogram, p.quantiles
FROM generate_series(
         %(day)s::timestamptz, %(day)s::timestamptz + interval '23 hours', interval '1 hour'
     ) AS h
CROSS JOIN generate_series(1, %(keys)s) AS k
INNER JOIN public.bench_pool AS p
    ON p.i = (k + extract(hour FROM h AT TIME ZONE 'UTC')::int) %% %(pool)s
"""

# pg_partition_tree lists nothing for a table that is not partitioned.
SIZE = (
    "SELECT coalesce(sum(pg_total_relation_size(t.relid)), "
    "pg_total_relation_size('pgmetrics.route_metrics'))::bigint "
    "FROM pg_partition_tree('pgmetrics.route_metrics') AS t"
)

Conn = psycopg.Connection[tuple[object, ...]]


def prepare(cluster: LocalCluster, name: str, target: str | None, days: int) -> Conn:
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    if target is None:
        deploy(cluster.dsn(name))
    else:
        sqitch("deploy", cluster.dsn(name), "--to", target)
    conn = psycopg.connect(cluster.dsn(name), autocommit=True)
    conn.execute("SELECT pgmetrics.set_setting('retention_days', %s)", (days,))
    conn.execute(MAKE_POOL, {"pool": POOL})
    conn.execute(QUANTILES)
    return conn


def load_day(conn: Conn, keys: int, day: datetime) -> None:
    conn.execute(LOAD_DAY, {"day": day, "keys": keys, "pool": POOL})


def size(conn: Conn) -> int:
    row = conn.execute(SIZE).fetchone()
    assert row is not None
    return int(str(row[0]))


def timed_run(conn: Conn, now: datetime, keys: int) -> float:
    began = time.perf_counter()
    row = conn.execute("SELECT pgmetrics.run_retention(%s)", (now,)).fetchone()
    elapsed = (time.perf_counter() - began) * 1000
    assert row is not None
    result: dict[str, object] = row[0]  # type: ignore[assignment]
    assert int(str(result["route_hours_expired"])) == keys * 24, result
    return elapsed


def run(cluster: LocalCluster, keys: int, days: int, cycles: int) -> list[str]:
    conns = {
        "partitioned": prepare(cluster, "partitioned", None, days),
        "unpartitioned": prepare(cluster, "unpartitioned", "@v0.2.0", days),
    }
    try:
        began = time.perf_counter()
        # The partitioned tier gets its days as the fold would build them, before the rows.
        conns["partitioned"].execute(
            "SELECT pgmetrics._add_detail_partitions(ARRAY(SELECT generate_series("
            "%(first)s::timestamptz, %(last)s::timestamptz, interval '1 day')))",
            {"first": START, "last": START + timedelta(days=days + 3)},
        )
        for day in range(days):
            for conn in conns.values():
                load_day(conn, keys, START + timedelta(days=day))
        fill_s = time.perf_counter() - began
        print(f"filled {keys} keys x 24 h x {days} days twice in {fill_s:.0f} s", flush=True)
        lines = [
            f"{keys} routes x 24 hours x {days} days of hourly rows (retention_days = {days}), "
            f"{keys * 24 * days:,} rows in each database, filled set-based in {fill_s:.0f} s "
            "for both; autovacuum off, no VACUUM. Each cycle adds a day and expires a day "
            f"({keys * 24:,} rows).",
            "",
            "| cycle | partitioned: run ms | MB | unpartitioned (DELETE): run ms | MB "
            "| DELETE / partitioned, time |",
            "|---|---|---|---|---|---|",
        ]
        times: dict[str, list[float]] = {name: [] for name in conns}
        sizes: dict[str, list[int]] = {name: [size(conn)] for name, conn in conns.items()}
        order = list(conns)
        for cycle in range(cycles):
            day = START + timedelta(days=days + cycle)
            for conn in conns.values():
                load_day(conn, keys, day)
            # Writes of the load would otherwise land in the timed runs.
            conns["partitioned"].execute("CHECKPOINT")
            now = day + timedelta(days=1, hours=1)
            for name in order:
                times[name].append(timed_run(conns[name], now, keys))
                sizes[name].append(size(conns[name]))
            order.reverse()
            lines.append(
                f"| {cycle + 1} | {times['partitioned'][-1]:.1f} "
                f"| {sizes['partitioned'][-1] / 2**20:.0f} "
                f"| {times['unpartitioned'][-1]:.1f} | {sizes['unpartitioned'][-1] / 2**20:.0f} "
                f"| {times['unpartitioned'][-1] / times['partitioned'][-1]:.1f}x |"
            )
            print(lines[-1], flush=True)
    finally:
        for conn in conns.values():
            conn.close()
    lines += ["", "| | partitioned | unpartitioned (DELETE) |", "|---|---|---|"]
    edge = min(5, max(1, cycles // 3))
    summary = {}
    for name in conns:
        first = statistics.median(times[name][:edge])
        last = statistics.median(times[name][-edge:])
        summary[name] = (first, last, sizes[name][-1] / sizes[name][0])
    ratio = statistics.median(times["unpartitioned"]) / statistics.median(times["partitioned"])
    lines += [
        f"| run ms, median of the first {edge} cycles | {summary['partitioned'][0]:.1f} "
        f"| {summary['unpartitioned'][0]:.1f} |",
        f"| run ms, median of the last {edge} cycles | {summary['partitioned'][1]:.1f} "
        f"| {summary['unpartitioned'][1]:.1f} |",
        f"| last / first, time | {summary['partitioned'][1] / summary['partitioned'][0]:.2f}x "
        f"| {summary['unpartitioned'][1] / summary['unpartitioned'][0]:.2f}x |",
        f"| size after {cycles} cycles / before | {summary['partitioned'][2]:.2f}x "
        f"| {summary['unpartitioned'][2]:.2f}x |",
        "",
        f"DELETE / partitioned, median run time over all cycles: {ratio:.1f}x",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--no-append", action="store_true", help="print only")
    args = parser.parse_args()
    with LocalCluster(durable=True, settings={"autovacuum": "off"}) as cluster:
        lines = run(cluster, args.keys, args.days, args.cycles)
    for line in lines[-9:]:
        print(line)
    if not args.no_append:
        append_results(
            f"Partitioned hourly tier: retention over {args.cycles} daily cycles without VACUUM, "
            "against DELETE",
            lines,
        )


if __name__ == "__main__":
    main()
