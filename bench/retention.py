"""Retention over simulated days: each cycle records one day of hourly cells for every key,
folds them, then runs pgmetrics.run_retention() at the end of that day.

The cells are staged in pgmetrics.route_cells (as ingest_batch stages them, without histograms)
and moved into the hourly table and the rollups by pgmetrics.fold_events() before the clock
starts, so the timed run_retention finds nothing to fold and measures the expiry: the hourly
detail's whole UTC days, and the rollup rows (UTC day, week, month) past summary_retention_days.
run_retention still calls fold_events() first; the second table also times a fold with nothing
pending, just before each run, to show that part of the run's cost. The daily tier of the first
release is gone; its place in the sizes is taken by pgmetrics.route_metrics_rollup.

Prints, per cycle, the run's time and the size of each table; then the time of one run that
expires one day while 7 days are kept against one while 28 days are kept (same rows expired).
The size must stay flat at steady state and the time must not grow with the history kept.
Between cycles a plain VACUUM stands in for the autovacuum pass a real day leaves room for.

    python -m bench.retention [--keys 2000] [--cycles 30] [--retention-days 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy

START = datetime(2026, 1, 1, tzinfo=UTC)
TABLES = ("route_metrics", "route_metrics_rollup")

LOAD_DAY = """
INSERT INTO pgmetrics.route_cells (
    route, method, period_start, total_requests, successful, total_duration_ms,
    min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
)
SELECT
    '/route/' || k, 'GET', h, 10, 9, 123.5, 1.5, 40.25, h + interval '59 minutes', 0, '{}'
FROM generate_series(1, %(keys)s) AS k,
     generate_series(
         %(day)s::timestamptz, %(day)s::timestamptz + interval '23 hours', interval '1 hour'
     ) AS h
"""


def load_day(conn: psycopg.Connection[tuple[object, ...]], keys: int, day: datetime) -> None:
    """Stages one day of cells and folds them into the hourly table and the rollups."""
    conn.execute(LOAD_DAY, {"keys": keys, "day": day})
    conn.execute("SELECT pgmetrics.fold_events()")


def sizes(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, int]:
    result = {}
    for table in TABLES:
        row = conn.execute(
            # The hourly tier is partitioned: its size is the sum over its partitions.
            "SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(%s::regclass) AS t",
            (f"pgmetrics.{table}",),
        ).fetchone()
        assert row is not None
        result[table] = int(str(row[0]))
    return result


def timed_run(
    conn: psycopg.Connection[tuple[object, ...]], now: datetime
) -> tuple[float, int, int]:
    """One run_retention: its time in ms, hourly rows and rollup rows expired."""
    began = time.perf_counter()
    row = conn.execute("SELECT pgmetrics.run_retention(%s)", (now,)).fetchone()
    elapsed = (time.perf_counter() - began) * 1000
    assert row is not None
    result: dict[str, object] = row[0]  # type: ignore[assignment]
    assert int(str(result["route_cells_folded"])) == 0, result  # folded before the clock
    return (
        elapsed,
        int(str(result["route_hours_expired"])),
        int(str(result["route_rollups_expired"])),
    )


def fresh_database(
    cluster: LocalCluster, name: str, retention_days: int
) -> psycopg.Connection[tuple[object, ...]]:
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    deploy(cluster.dsn(name))
    conn = psycopg.connect(cluster.dsn(name), autocommit=True)
    conn.execute("SELECT pgmetrics.set_setting('retention_days', %s)", (retention_days,))
    return conn


def cycles(cluster: LocalCluster, keys: int, count: int, retention_days: int) -> list[str]:
    lines = [
        f"{keys} keys x 24 hours a day, retention_days = {retention_days}, {count} daily cycles",
        "",
        "| cycle | hours expired | rollups expired | run ms | route_metrics MB "
        "| route_metrics_rollup MB |",
        "|---|---|---|---|---|---|",
    ]
    with fresh_database(cluster, "cycles", retention_days) as conn:
        for day in range(count):
            load_day(conn, keys, START + timedelta(days=day))
            elapsed, expired, rollups = timed_run(conn, START + timedelta(days=day + 1))
            for table in ("route_metrics", "route_metrics_rollup", "route_cells"):
                conn.execute(f"VACUUM pgmetrics.{table}")
            size = sizes(conn)
            lines.append(
                f"| {day + 1} | {expired} | {rollups} | {elapsed:.1f} "
                f"| {size['route_metrics'] / 2**20:.1f} "
                f"| {size['route_metrics_rollup'] / 2**20:.1f} |"
            )
            print(lines[-1], flush=True)
    return lines


def history_ratio(cluster: LocalCluster, keys: int, runs: int = 7) -> list[str]:
    """One day expired with 7 and with 28 days kept. The two databases are built once and the
    timed runs alternate between them, so that load from elsewhere on the machine falls on
    both alike; before each run the expired day is put back."""
    conns = {kept: fresh_database(cluster, f"history_{kept}", kept) for kept in (7, 28)}
    samples: dict[int, list[float]] = {kept: [] for kept in conns}
    folds: dict[int, list[float]] = {kept: [] for kept in conns}
    try:
        for kept, conn in conns.items():
            for day in range(1, kept + 1):
                load_day(conn, keys, START + timedelta(days=day))
        for _ in range(runs):
            for kept, conn in conns.items():
                load_day(conn, keys, START)
                for table in ("route_cells", "route_metrics", "route_metrics_rollup"):
                    conn.execute(f"VACUUM ANALYZE pgmetrics.{table}")
                # Writes of the load would otherwise land in the timed run.
                conn.execute("CHECKPOINT")
                # run_retention folds first; with nothing pending, this is what that part costs.
                began = time.perf_counter()
                conn.execute("SELECT pgmetrics.fold_events()")
                folds[kept].append((time.perf_counter() - began) * 1000)
                elapsed, expired, _ = timed_run(conn, START + timedelta(days=kept + 1, hours=1))
                assert expired == keys * 24, expired
                samples[kept].append(elapsed)
    finally:
        for conn in conns.values():
            conn.close()
    short, long = statistics.median(samples[7]), statistics.median(samples[28])
    ratio = long / short
    verdict = "met" if ratio <= 1.2 else "NOT met"
    return [
        "",
        f"| days kept | rows expired | run ms (median of {runs}, alternating) "
        "| of which: a fold with nothing pending, ms (timed just before) |",
        "|---|---|---|---|",
        f"| 7 | {keys * 24} | {short:.1f} | {statistics.median(folds[7]):.1f} |",
        f"| 28 | {keys * 24} | {long:.1f} | {statistics.median(folds[28]):.1f} |",
        "",
        f"28 days kept / 7 days kept: {ratio:.2f}x "
        f"(goal: time follows rows expired, <= 1.2x: {verdict})",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--retention-days", type=int, default=7)
    args = parser.parse_args()
    with LocalCluster(durable=True) as cluster:
        lines = cycles(cluster, args.keys, args.cycles, args.retention_days)
        lines += history_ratio(cluster, args.keys)
    for line in lines[-8:]:
        print(line)
    append_results("Retention: 30 daily cycles, table sizes, cost by rows expired", lines)


if __name__ == "__main__":
    main()
