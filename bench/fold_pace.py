"""Fold pace: does fold_events() keep up with direct SQL recording at 8 clients on realistic key
counts? pgbench records through record_route_metric while a separate connection folds every
--interval seconds, against a plain one-row INSERT under the same pgbench load in the same run.

    python -m bench.fold_pace [--keys 2000] [--clients 8] [--interval 20] [--cycles 6]
                              [--warm-events 1000] [--no-append]

One durable throwaway cluster (fsync and synchronous_commit on), pg_stat_statements preloaded
besides pg_cron; per --keys value (a comma-separated sweep, each a row of the table) one
database deployed with sqitch, with the report zones America/New_York and Asia/Kolkata, so that
every key-hour is stored in 6 rows: the hour, the UTC day, ISO week and month, and the two local
days. A key k is the route '/r/' || k / 2 with GET for even k and POST for odd k (2,000 keys:
1,000 routes x GET/POST). Every event takes a key uniformly at random, succeeds with
probability 0.99 and lasts a lognormal duration (median 20 ms, sigma 1), drawn in the SQL by
Box-Muller: exp(ln(20) + sqrt(-2 ln(1 - random())) cos(2 pi random())).

Warm-up: one INSERT ... SELECT calls record_route_metric --warm-events times per key (default
1,000, at instants spread over the elapsed part of the current UTC hour), then fold_events(),
VACUUM ANALYZE of the event table and both tiers (and a CHECKPOINT before the measured phase):
every stored row the measured folds touch already holds a histogram of about 230 buckets, as a
busy key's row does in production. A run that crosses a UTC hour (or a report zone's midnight)
touches a new row whose histogram starts small: the "key-hours pending" column shows it.

Measured: pgbench (-c --clients, -j 2, -P 1) runs the recording script for --cycles intervals
and half of one more; a Python loop on its own connection calls fold_events() when each of the
--cycles intervals ends (as pg_cron would: due at fixed times, a fold that overruns delaying the
next). A fold that could only begin after pgbench ended is not run: when the folds overrun,
fewer than --cycles are measured, each under load, and the run stays as long. After pgbench ends
one more fold, not measured, empties the table and the events folded are checked against the
calls pgbench made. Then the median fold's events are recorded again, in one statement spread
evenly over the keys, and folded with nothing else running: the "fold s with no load" column,
the same work without the writers on the cores. On a schema whose rollups stop at a watermark
(the hour under way rolled up once, when it is over), the fold that rolls the warm hour up is
timed last, with nothing pending and nothing else running: the "hourly roll-up fold" column,
what the first fold after each hour adds once an hour. Production folds every 60 s; the default 20 s
interval keeps the run near 6 minutes, and a fold's cost follows the rows it touches, which with
2,000 busy keys is all of them either way (2,000 x 6 rows); only the events per fold are a third
of production's. Per fold: its seconds, the events it folded (route_events_folded), the pending
backlog and key-hours read just before it (count over pgmetrics.route_events), its own WAL and
full-page images, and the cluster's WAL during it (pg_current_wal_lsn before and after). The
fold's own WAL comes from the pg_stat_statements counters of its statement (nested statements
included): the LSN difference also holds what the writers log meanwhile, a fifth to a quarter of
it here. The first fold after the CHECKPOINT before the measured phase writes a full-page image
of every page it touches; production's 5-minute checkpoints give one such fold in five at a 60 s
interval.

Baseline, same client count and duration, half of it right before the measured phase and half
right after it (a CHECKPOINT before each part), so that a change in the machine's other load
falls on both sides alike: pgbench running a plain one-row INSERT of the same fields into a
logged table without index (as bench.hot_key), and no fold; its rate is the two halves' mean.
"Keeps up" means every fold ended before the next was due and the backlog before the last fold
is at most 1.5 intervals' worth of events (at the measured recording rate). The recording rate
is also split, from pgbench's per-second progress, into the seconds a fold was running and the
others: what a running fold costs the writers (its CPU, and its WAL ahead of their commit
records in the flushes they wait for).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from typing import LiteralString

import psycopg

from bench.pgbench import Pgbench
from bench.public_api import REPORT_TIME_ZONES, Conn, new_database, set_report_time_zones
from bench.results import append_results
from devtools.localcluster import LocalCluster

DURATION: LiteralString = "exp(ln(20) + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))"
KEY = "\\set k random(0, :keys - 1)\n\\set r :k / 2\n\\set m :k % 2 + 1\n\\set ok random(1, 100)\n"
RECORD = (
    KEY + "SELECT pgmetrics.record_route_metric("
    "'/r/' || :r, (ARRAY['GET', 'POST'])[:m], :ok <= 99, " + DURATION + ");\n"
)
INSERT = (
    KEY + "INSERT INTO bench_plain VALUES "
    "('/r/' || :r, (ARRAY['GET', 'POST'])[:m], :ok <= 99, " + DURATION + ", now());\n"
)
PLAIN_TABLE = (
    "CREATE TABLE bench_plain (route text NOT NULL, method text NOT NULL, "
    "success boolean NOT NULL, duration_ms double precision NOT NULL, at timestamptz NOT NULL)"
)
WARM: LiteralString = (
    "SELECT count(*) FROM (SELECT pgmetrics.record_route_metric("
    "'/r/' || k / 2, (ARRAY['GET', 'POST'])[k %% 2 + 1], random() < 0.99, "
    + DURATION
    + ", date_trunc('hour', now(), 'UTC') + random() * (now() - date_trunc('hour', now(), 'UTC')))"
    " FROM generate_series(0, %(keys)s - 1) AS k CROSS JOIN generate_series(1, %(events)s) AS e"
    ") AS s"
)
BUCKETS = (
    "SELECT avg(cardinality(duration_histogram)), count(*) FROM pgmetrics.route_metrics "
    "WHERE period_start = date_trunc('hour', now(), 'UTC')"
)
FOLD = "SELECT pgmetrics.fold_events()"
# The fold's own WAL: pg_stat_statements counts a top-level statement's nested writes with it.
BEFORE = (
    "SELECT pg_current_wal_lsn()::text, "
    "(SELECT count(*) FROM pgmetrics.route_events), "
    "(SELECT count(*) FROM (SELECT 1 FROM pgmetrics.route_events "
    "GROUP BY route, method, period_start) AS p), "
    "(SELECT coalesce(sum(wal_bytes), 0) FROM pg_stat_statements WHERE query = %(fold)s), "
    "(SELECT coalesce(sum(wal_fpi), 0) FROM pg_stat_statements WHERE query = %(fold)s)"
)
AFTER = (
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %(lsn)s::pg_lsn), "
    "(SELECT coalesce(sum(wal_bytes), 0) FROM pg_stat_statements WHERE query = %(fold)s), "
    "(SELECT coalesce(sum(wal_fpi), 0) FROM pg_stat_statements WHERE query = %(fold)s)"
)
MB = 2**20


def _int(value: object) -> int:
    return int(str(value))


def _float(value: object) -> float:
    return float(str(value))


def _one(conn: Conn, query: LiteralString, params: dict[str, object] | None = None) -> list[object]:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return list(row)


@dataclass(frozen=True)
class Fold:
    late: float  # seconds after it was due that it began
    began: float  # epoch
    seconds: float
    folded: int
    backlog: int
    key_hours: int
    wal: int  # the fold's own
    fpi: int
    cluster_wal: int  # every backend's, during the fold


@dataclass(frozen=True)
class Run:
    keys: int
    buckets: float
    warm_seconds: float
    record_tps: float
    during_fold_tps: float
    between_folds_tps: float
    insert_tps: float
    alone_seconds: float  # a fold of a median fold's events, with no load
    alone_events: int
    roll_seconds: float | None  # the hourly roll-up fold, with no load
    folds: list[Fold]
    keeps_up: bool
    backlog_ok: bool
    zones: str


def _fold(conn: Conn) -> int:
    """Runs fold_events(): the route events it folded."""
    result = _one(conn, FOLD)[0]
    assert isinstance(result, dict), result
    return _int(result["route_events_folded"])


def _fold_once(conn: Conn, due: float) -> Fold:
    lsn, backlog, key_hours, wal0, fpi0 = _one(conn, BEFORE, {"fold": FOLD})
    began = time.time()
    clock = time.perf_counter()
    folded = _fold(conn)
    seconds = time.perf_counter() - clock
    cluster_wal, wal1, fpi1 = _one(conn, AFTER, {"fold": FOLD, "lsn": lsn})
    return Fold(
        late=began - due,
        began=began,
        seconds=seconds,
        folded=folded,
        backlog=_int(backlog),
        key_hours=_int(key_hours),
        wal=_int(wal1) - _int(wal0),
        fpi=_int(fpi1) - _int(fpi0),
        cluster_wal=_int(cluster_wal),
    )


def _split(
    progress: list[tuple[float, float]], folds: list[Fold], until: float
) -> tuple[float, float]:
    """Mean pgbench tps over the seconds whose middle falls in a fold, and over the others
    (up to ``until``, the end of the last fold)."""
    during: list[float] = []
    between: list[float] = []
    for end, tps in progress:
        middle = end - 0.5
        if middle > until:
            continue
        inside = any(f.began <= middle <= f.began + f.seconds for f in folds)
        (during if inside else between).append(tps)
    return (
        statistics.fmean(during) if during else 0.0,
        statistics.fmean(between) if between else 0.0,
    )


def _seconds(args: argparse.Namespace) -> int:
    """pgbench's run: the measured intervals and half of one more, under the last fold."""
    return int(args.cycles * args.interval + args.interval / 2)


def measure(cluster: LocalCluster, keys: int, args: argparse.Namespace) -> Run:
    db = f"fold_pace_{keys}"
    dsn = new_database(cluster, db)
    seconds = _seconds(args)
    with psycopg.connect(dsn, autocommit=True) as conn:
        zones = set_report_time_zones(conn, REPORT_TIME_ZONES)
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute(PLAIN_TABLE)
        clock = time.perf_counter()
        conn.execute(WARM, {"keys": keys, "events": args.warm_events})
        _fold(conn)
        warm_seconds = time.perf_counter() - clock
        for table in ("route_events", "route_metrics", "route_metrics_rollup"):
            conn.execute(f"VACUUM ANALYZE pgmetrics.{table}")
        buckets, warm_rows = _one(conn, BUCKETS)
        assert _int(warm_rows) == keys, f"{warm_rows} hourly rows for {keys} keys"
        print(
            f"  {keys:,} keys: warm-up {keys * args.warm_events:,} events recorded and folded "
            f"in {warm_seconds:.1f} s, {_float(buckets):.0f} buckets per hourly row",
            flush=True,
        )
        # The baseline brackets the measured phase, half before and half after it, so that a
        # change in the machine's other load falls on both sides alike.
        halves = [seconds // 2, seconds - seconds // 2]
        conn.execute("CHECKPOINT")
        insert = [Pgbench(cluster, db, INSERT, args.clients, halves[0], {"keys": keys}).finish()[0]]

        conn.execute("CHECKPOINT")
        bench = Pgbench(cluster, db, RECORD, args.clients, seconds, {"keys": keys})
        folds: list[Fold] = []
        try:
            for cycle in range(1, args.cycles + 1):
                due = bench.started + cycle * args.interval
                if max(due, time.time()) >= bench.started + seconds:
                    break  # the folds before it overran: it would begin after the load ended
                time.sleep(max(0.0, due - time.time()))
                folds.append(_fold_once(conn, due))
                f = folds[-1]
                print(
                    f"  fold {cycle}: {f.seconds:.2f} s, {f.folded:,} events, "
                    f"{f.key_hours:,} key-hours, {f.wal / MB:.1f} MB WAL ({f.fpi:,} FPI), "
                    f"began {f.late:.2f} s late",
                    flush=True,
                )
        finally:
            record_tps, processed, progress = bench.finish()
        folded = sum(f.folded for f in folds) + _fold(conn)
        assert folded == processed, f"{folded} events folded, {processed} recorded"
        during, between = _split(progress, folds, folds[-1].began + folds[-1].seconds)

        # The same work with nothing else running: a median fold's events, recorded at once.
        per_key = max(1, round(statistics.median(f.folded for f in folds) / keys))
        conn.execute(WARM, {"keys": keys, "events": per_key})
        clock = time.perf_counter()
        alone_events = _fold(conn)
        alone_seconds = time.perf_counter() - clock
        # Once an hour the first fold after it rolls the hour up into the rollups (on schemas
        # with a rollup watermark): that fold, for the warm hour, with nothing else running.
        roll_seconds = None
        if _one(conn, "SELECT to_regproc('pgmetrics._fold_events') IS NOT NULL")[0]:
            clock = time.perf_counter()
            conn.execute(
                "SELECT pgmetrics._fold_events(true, date_trunc('hour', now(), 'UTC') + "
                "interval '1 hour')"
            )
            roll_seconds = time.perf_counter() - clock

        conn.execute("CHECKPOINT")
        insert.append(
            Pgbench(cluster, db, INSERT, args.clients, halves[1], {"keys": keys}).finish()[0]
        )
        insert_tps = sum(tps * t for tps, t in zip(insert, halves, strict=True)) / seconds

    dues = [f.began - f.late for f in folds]
    ends = [f.began + f.seconds for f in folds]
    keeps_up = len(folds) == args.cycles and all(
        end <= due + args.interval for end, due in zip(ends, dues, strict=True)
    )
    backlog_ok = folds[-1].backlog <= 1.5 * record_tps * args.interval
    return Run(
        keys=keys,
        buckets=_float(buckets),
        warm_seconds=warm_seconds,
        record_tps=record_tps,
        during_fold_tps=during,
        between_folds_tps=between,
        insert_tps=insert_tps,
        alone_seconds=alone_seconds,
        alone_events=alone_events,
        roll_seconds=roll_seconds,
        folds=folds,
        keeps_up=keeps_up,
        backlog_ok=backlog_ok,
        zones=zones,
    )


def _cycles(run: Run, interval: int, warm_events: int) -> list[str]:
    lines = [
        "",
        f"{run.keys:,} keys, per fold (warm-up: {run.keys * warm_events:,} events recorded "
        f"and folded in {run.warm_seconds:.0f} s):",
        "",
        "| fold | began late | backlog before | key-hours pending | events folded | fold s "
        "| duty | events per fold-s | fold WAL MB | FPI | cluster WAL during fold MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, f in enumerate(run.folds, 1):
        lines.append(
            f"| {i} | {f.late:.2f} s | {f.backlog:,} | {f.key_hours:,} | {f.folded:,} "
            f"| {f.seconds:.2f} | {f.seconds / interval:.0%} | {f.folded / f.seconds:,.0f} "
            f"| {f.wal / MB:.1f} | {f.fpi:,} | {f.cluster_wal / MB:.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", default="2000", help="route keys; comma-separated to sweep")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--interval", type=int, default=20, help="seconds between folds")
    parser.add_argument("--cycles", type=int, default=6, help="measured folds")
    parser.add_argument(
        "--warm-events", type=int, default=1000, help="events per key recorded before measuring"
    )
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    settings = {
        "synchronous_commit": "on",
        "shared_preload_libraries": "'pg_cron,pg_stat_statements'",
    }
    runs: list[Run] = []
    load_before = os.getloadavg()[0]
    with LocalCluster(durable=True, settings=settings) as cluster:
        for keys in (int(k) for k in args.keys.split(",")):
            runs.append(measure(cluster, keys, args))
    load_after = os.getloadavg()[0]
    seconds = _seconds(args)
    lines = [
        f"pgbench -c {args.clients} -j {min(args.clients, 2)} -T {seconds} calling "
        "record_route_metric on a uniformly random key (route '/r/' || k / 2, GET or POST), "
        "success 99 %, lognormal duration (median 20 ms, sigma 1); fold_events() every "
        f"{args.interval} s on its own connection, due {args.cycles} times; "
        f"{runs[0].zones} (6 stored rows per key-hour); warm-up {args.warm_events:,} events "
        "per key recorded and folded into the current hour first. Baseline: the same pgbench "
        "running a plain one-row INSERT of the same fields into a logged table without index, "
        "no fold, half before and half after the measured phase. fsync and synchronous_commit on. "
        f"Machine load average (1 min) {load_before:.1f} before the run, {load_after:.1f} after "
        "it (this run's own processes included).",
        "",
        "| keys | buckets per row | record calls/s with folds | plain INSERT rows/s | ratio "
        "| calls/s during a fold / between | fold s median (max) | fold duty median (max) "
        "| fold s with no load (events) | events per fold-s | fold WAL per fold "
        "| fold WAL per event | hourly roll-up fold s with no load | keeps up |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        times = [f.seconds for f in run.folds]
        wal = statistics.median(f.wal for f in run.folds)
        per_event = sum(f.wal for f in run.folds) / max(1, sum(f.folded for f in run.folds))
        rate = sum(f.folded for f in run.folds) / sum(times)
        reasons = []
        if len(run.folds) < args.cycles:
            reasons.append(f"folds overran: {len(run.folds)} of {args.cycles} began under the load")
        elif not run.keeps_up:
            reasons.append("a fold overran its interval")
        if not run.backlog_ok:
            reasons.append("backlog above 1.5 intervals")
        verdict = f"NO ({'; '.join(reasons)})" if reasons else "yes"
        lines.append(
            f"| {run.keys:,} | {run.buckets:.0f} | {run.record_tps:,.0f} | {run.insert_tps:,.0f} "
            f"| {run.record_tps / run.insert_tps:.2f}x "
            f"| {run.during_fold_tps:,.0f} / {run.between_folds_tps:,.0f} "
            f"| {statistics.median(times):.2f} s ({max(times):.2f} s) "
            f"| {statistics.median(times) / args.interval:.0%} ({max(times) / args.interval:.0%}) "
            f"| {run.alone_seconds:.2f} s ({run.alone_events:,}) "
            f"| {rate:,.0f} | {wal / MB:.1f} MB | {per_event:,.0f} B "
            f"| {'-' if run.roll_seconds is None else f'{run.roll_seconds:.2f} s'} | {verdict} |"
        )
    for run in runs:
        lines += _cycles(run, args.interval, args.warm_events)
    print("\n".join(lines))
    if not args.no_append:
        append_results("Fold pace: fold_events() under 8-client direct SQL recording", lines)


if __name__ == "__main__":
    main()
