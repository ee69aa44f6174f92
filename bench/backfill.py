"""Direct SQL backfill: events recorded with record_route_metric from one SQL statement per
chunk, then fold_events(), against INSERT ... SELECT of as many narrow rows into a plain keyed
table, in the same run (goal: >= 50,000 events/s, recording and fold together).

Two cases, each in its own database of one durable throwaway cluster:
- spread: --keys (1,000) route keys x --hours (1,440: 60 days) hours, one event per key and
  hour: 1,440,000 events, each key-hour a new hourly row;
- dense: --dense-keys (200) x --dense-hours (24) x --dense-events (30) events per key and hour:
  144,000 events summed into 4,800 hourly rows.
Every statement is SELECT pgmetrics.record_route_metric(route, method, success, duration_ms, at)
over generate_series, about --chunk-events (24,000) events per statement; durations come from
1,000 lognormal values (median 20 ms, sigma 1, fixed seed) passed as an array, every tenth
event fails. Then fold_events() (when the schema has it) moves them into the tiers. The
baseline INSERT ... SELECT writes the same expressions (route, method, success, duration_ms, at)
into a plain table keyed (route, method, at), chunk for chunk. Before loading, set_setting
raises the retention to 3,650 days, so that every run's range is kept detail, and tries
report zones (add_report_zone), so that the fold builds local-day tiers too. Each case
runs --runs times (default 3) on disjoint ranges, baseline first, and takes the medians; the
counts are checked through route_metrics_summary after each fold.

    python -m bench.backfill [--keys 1000] [--hours 1440] [--runs 3] [--no-append]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import LiteralString

import psycopg

from bench.public_api import Conn, fold, lognormal, new_database, set_report_time_zones
from bench.results import append_results
from devtools.localcluster import LocalCluster

BASE = datetime(2025, 1, 1, tzinfo=UTC)
GOAL = 50_000

# Shared by both sides: the same events, row for row.
SERIES: LiteralString = """
FROM generate_series(%(h0)s, %(h1)s - 1) AS h
CROSS JOIN generate_series(0, %(keys)s - 1) AS k
CROSS JOIN generate_series(0, %(events)s - 1) AS e
"""
ROUTE: LiteralString = "'/backfill/resource' || lpad(k::text, 5, '0') || '/{id}'"
SUCCESS: LiteralString = "(k + h + e) %% 10 <> 0"
DURATION: LiteralString = "(%(durations)s::float8[])[1 + (k * 31 + h * 7 + e * 13) %% 1000]"
# Events of one key and hour are e minutes and k milliseconds into it: distinct, so keyed.
AT: LiteralString = (
    "%(first)s::timestamptz + h * interval '1 hour' + e * interval '1 minute' "
    "+ k * interval '1 millisecond'"
)
RECORD: LiteralString = (
    "SELECT count(*) FROM (SELECT pgmetrics.record_route_metric("
    + ROUTE
    + ", 'GET', "
    + SUCCESS
    + ", "
    + DURATION
    + ", "
    + AT
    + ")"
    + SERIES
    + ") AS s"
)
INSERT: LiteralString = (
    "INSERT INTO bench_events (route, method, success, duration_ms, at) SELECT "
    + ROUTE
    + ", 'GET', "
    + SUCCESS
    + ", "
    + DURATION
    + ", "
    + AT
    + SERIES
)
EVENTS_TABLE: LiteralString = """
CREATE TABLE bench_events (
    route text NOT NULL,
    method text NOT NULL,
    success boolean NOT NULL,
    duration_ms double precision NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (route, method, at)
)
"""
COUNTED: LiteralString = (
    "SELECT coalesce(sum(total_requests), 0) "
    "FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'day')"
)


@dataclass(frozen=True)
class Case:
    name: str
    keys: int
    hours: int
    events: int  # per key and hour

    @property
    def total(self) -> int:
        return self.keys * self.hours * self.events


@dataclass
class Timings:
    baseline: list[float]
    record: list[float]
    fold: list[float | None]


def _chunks(case: Case, chunk_events: int) -> list[tuple[int, int]]:
    step = max(1, chunk_events // (case.keys * case.events))
    return [(h0, min(h0 + step, case.hours)) for h0 in range(0, case.hours, step)]


def _run(
    conn: Conn, case: Case, first: datetime, durations: list[float], chunk_events: int
) -> tuple[float, float, float | None]:
    params: dict[str, object] = {
        "keys": case.keys,
        "events": case.events,
        "durations": durations,
        "first": first,
    }
    chunks = _chunks(case, chunk_events)
    began = time.perf_counter()
    for h0, h1 in chunks:
        conn.execute(INSERT, {**params, "h0": h0, "h1": h1})
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    for h0, h1 in chunks:
        conn.execute(RECORD, {**params, "h0": h0, "h1": h1})
    record = time.perf_counter() - began
    folded = fold(conn)
    row = conn.execute(
        COUNTED, {"start": first, "end": first + timedelta(hours=case.hours)}
    ).fetchone()
    counted = None if row is None else row[0]
    assert counted == case.total, f"{counted} events counted, {case.total} recorded"
    return baseline, record, folded


def _measure(
    cluster: LocalCluster, case: Case, runs: int, durations: list[float], chunk_events: int
) -> tuple[Timings, str]:
    dsn = new_database(cluster, f"bench_{case.name}")
    timings = Timings([], [], [])
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pgmetrics.set_setting('summary_retention_days', 3650)")
        conn.execute("SELECT pgmetrics.set_setting('retention_days', 3650)")
        zones = set_report_time_zones(conn)
        conn.execute(EVENTS_TABLE)
        span = timedelta(days=-(-case.hours // 24) + 1)
        for run in range(runs):
            baseline, record, folded = _run(conn, case, BASE + run * span, durations, chunk_events)
            timings.baseline.append(baseline)
            timings.record.append(record)
            timings.fold.append(folded)
            print(
                f"  {case.name} run {run + 1}: INSERT {baseline:.2f} s, record {record:.2f} s, "
                f"fold {'-' if folded is None else f'{folded:.2f} s'}",
                flush=True,
            )
    return timings, zones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=1440)
    parser.add_argument("--dense-keys", type=int, default=200)
    parser.add_argument("--dense-hours", type=int, default=24)
    parser.add_argument("--dense-events", type=int, default=30, help="events per key and hour")
    parser.add_argument("--chunk-events", type=int, default=24_000, help="events per statement")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    durations = lognormal(random.Random(42), 1000, 20.0, 1.0)
    cases = [
        Case("spread", args.keys, args.hours, 1),
        Case("dense", args.dense_keys, args.dense_hours, args.dense_events),
    ]
    measured: list[tuple[Case, Timings]] = []
    zones = ""
    with LocalCluster(durable=True) as cluster:
        for case in cases:
            timings, zones = _measure(cluster, case, args.runs, durations, args.chunk_events)
            measured.append((case, timings))
    lines = [
        f"Events recorded by SELECT pgmetrics.record_route_metric(...) FROM generate_series(...), "
        f"about {args.chunk_events:,} events a statement, then fold_events(); the baseline "
        "INSERT ... SELECT writes the same events as narrow rows into a plain table keyed "
        f"(route, method, at). Median of {args.runs} runs on disjoint ranges, fsync on; {zones}.",
        "",
        "| case | events | INSERT rows/s (baseline) | record events/s | fold | "
        f"record + fold events/s | against INSERT | goal >= {GOAL:,}/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case, t in measured:
        baseline = statistics.median(t.baseline)
        record = statistics.median(t.record)
        folds = [f for f in t.fold if f is not None]
        fold_s = statistics.median(folds) if folds else 0.0
        both = statistics.median([r + (f or 0.0) for r, f in zip(t.record, t.fold, strict=True)])
        rate = case.total / both
        shape = f"{case.keys:,} keys x {case.hours:,} h x {case.events}"
        fold_text = f"{fold_s:.1f} s" if folds else "no fold_events"
        lines.append(
            f"| {case.name} ({shape}) | {case.total:,} | {case.total / baseline:,.0f} "
            f"| {case.total / record:,.0f} | {fold_text} "
            f"| {rate:,.0f} | {baseline / both:.2f}x | {'met' if rate >= GOAL else 'NOT met'} |"
        )
    print("\n".join(lines))
    if not args.no_append:
        append_results("Direct SQL backfill: record_route_metric and fold_events", lines)


if __name__ == "__main__":
    main()
