"""Summary read times at scale, and what the daily-tier triggers cost the writers.

Builds a throwaway durable cluster, deploys the schema with sqitch and loads 2,000 route keys
(1,000 routes x GET/POST) x 90 days of hourly rows through INSERT ... SELECT generate_series into
pgmetrics.route_metrics in time order, as the rows of a live system arrive, so the statement-level
triggers build the daily tier as they would in production. It does the same for 365 days in a
second database, times the summaries on both, alternating between them, then measures the
triggers on a small database. Prints medians, targets and verdicts as Markdown.

    python -m bench.summaries [--runs 15] [--append bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import LiteralString

import psycopg
from psycopg import sql

from pgmetrics.deploy import deploy
from pgmetrics.localcluster import LocalCluster

ROUTES = 1000
METHODS = ("GET", "POST")
END = datetime(2026, 11, 29, tzinfo=UTC)  # data ends here: the newest hour is END - 1 hour
CHUNK_DAYS = 10

LOAD = """
INSERT INTO pgmetrics.route_metrics (
    route, method, period_start, period_end, total_requests, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
)
SELECT
    '/api/resource' || lpad(k::text, 4, '0') || '/{id}', m.method, h, h + interval '1 hour',
    10 + (k + hr) %% 7, 10 + (k + hr) %% 7 - (k + hr) %% 3, (k + hr) %% 3,
    (10 + (k + hr) %% 7) * 12.5, 1.5, 80 + (k + hr) %% 40, h + interval '59 minutes'
FROM generate_series(0, %(routes)s - 1) AS k
CROSS JOIN unnest(%(methods)s::text[]) AS m (method)
CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 hour') AS h
CROSS JOIN LATERAL (SELECT extract(epoch FROM h)::bigint / 3600 AS hr) AS x
ORDER BY h, k, m.method
"""

UPSERT = """
INSERT INTO pgmetrics.route_metrics AS m (
    route, method, period_start, period_end, total_requests, successful, failed,
    total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
)
SELECT '/upsert/' || k, 'GET', %(hour)s::timestamptz, %(hour)s::timestamptz + interval '1 hour',
       3, 2, 1, 30, 5, 15, %(hour)s::timestamptz + interval '30 minutes'
FROM generate_series(1, %(rows)s) AS k
ON CONFLICT (route, method, period_start) DO UPDATE SET
    total_requests = m.total_requests + excluded.total_requests,
    successful = m.successful + excluded.successful,
    failed = m.failed + excluded.failed,
    total_duration_ms = m.total_duration_ms + excluded.total_duration_ms,
    min_duration_ms = LEAST(m.min_duration_ms, excluded.min_duration_ms),
    max_duration_ms = GREATEST(m.max_duration_ms, excluded.max_duration_ms),
    last_request_at = GREATEST(m.last_request_at, excluded.last_request_at)
"""

ALL_KEYS = (
    "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, %(bucket)s, tz => %(tz)s)"
)
ONE_ROUTE = (
    "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, %(bucket)s, "
    "route => %(route)s, tz => %(tz)s)"
)
# The same work in the server without sending the rows: what the database itself spends.
ALL_KEYS_SERVER = f"SELECT count(*) FROM ({ALL_KEYS}) AS s"


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    params: dict[str, object]
    target_ms: float | None


def _queries() -> list[Query]:
    week = {"start": END - timedelta(days=7), "end": END, "bucket": "day", "tz": "UTC"}
    route = "/api/resource0042/{id}"
    return [
        Query("7 days by day, all keys (server)", ALL_KEYS_SERVER, week, 50.0),
        Query("7 days by day, all keys (rows fetched by psycopg)", ALL_KEYS, week, None),
        Query("7 days by day, one route", ONE_ROUTE, {**week, "route": route}, 2.0),
        Query(
            "7 days by day, all keys, range starting 10:30 (hourly edges, server)",
            ALL_KEYS_SERVER,
            {**week, "start": END - timedelta(days=7, hours=-10, minutes=-30)},
            None,
        ),
        Query(
            "7 days by day in Europe/Berlin, all keys (hourly tier, server)",
            ALL_KEYS_SERVER,
            {**week, "tz": "Europe/Berlin"},
            None,
        ),
        Query(
            "7 days by day in Europe/Berlin, one route",
            ONE_ROUTE,
            {**week, "tz": "Europe/Berlin", "route": route},
            None,
        ),
        Query(
            "90 days, all, one route",
            ONE_ROUTE,
            {**week, "start": END - timedelta(days=90), "bucket": "all", "route": route},
            None,
        ),
    ]


def _one(conn: psycopg.Connection[tuple[object, ...]], query: str) -> object:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _fetch_all(
    conn: psycopg.Connection[tuple[object, ...]], query: str, params: dict[str, object]
) -> list[tuple[object, ...]]:
    return conn.execute(query, params).fetchall()


def _median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm the caches and the plan
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def _load(conn: psycopg.Connection[tuple[object, ...]], first: datetime, last: datetime) -> None:
    """Loads whole days [first, last) in chunks, each chunk one statement (one trigger firing)."""
    day = first
    while day < last:
        stop = min(day + timedelta(days=CHUNK_DAYS), last)
        conn.execute(
            LOAD,
            {
                "routes": ROUTES,
                "methods": list(METHODS),
                "first": day,
                "last": stop - timedelta(hours=1),
            },
        )
        day = stop
    conn.execute("VACUUM ANALYZE pgmetrics.route_metrics")
    conn.execute("VACUUM ANALYZE pgmetrics.route_metrics_daily")


def _check_daily_tier(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    row = conn.execute(
        """
        SELECT count(*) FROM (
            SELECT route, method, date_trunc('day', period_start, 'UTC') AS day,
                   sum(total_requests) AS n, sum(failed) AS f, max(last_request_at) AS l
            FROM pgmetrics.route_metrics GROUP BY 1, 2, 3
        ) AS h
        FULL JOIN pgmetrics.route_metrics_daily AS d
            ON d.route = h.route AND d.method = h.method AND d.period_start = h.day
        WHERE h.n IS DISTINCT FROM d.total_requests OR h.f IS DISTINCT FROM d.failed
            OR h.l IS DISTINCT FROM d.last_request_at
        """
    ).fetchone()
    assert row == (0,), f"daily tier differs from the hourly tier in {row} rows"


def _time_queries(
    conns: dict[int, psycopg.Connection[tuple[object, ...]]], runs: int
) -> dict[int, dict[str, float]]:
    """Median times per database; the runs alternate between the databases, so that the load
    other processes put on the machine weighs on both alike."""
    results: dict[int, dict[str, float]] = {days: {} for days in conns}
    for query in _queries():
        samples: dict[int, list[float]] = {days: [] for days in conns}
        for conn in conns.values():
            _fetch_all(conn, query.text, query.params)  # warm the caches and the plan
        for _ in range(runs):
            for days, conn in conns.items():
                began = time.perf_counter()
                _fetch_all(conn, query.text, query.params)
                samples[days].append((time.perf_counter() - began) * 1000)
        for days in conns:
            results[days][query.name] = statistics.median(samples[days])
    return results


# The alternative measured against the statement-level triggers: one upsert of the daily row per
# hourly row written. It lives only in the benchmark's database.
ROW_LEVEL: tuple[LiteralString, ...] = (
    """
    CREATE FUNCTION pgmetrics_bench_row_apply() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
        v_total bigint := NEW.total_requests;
        v_successful bigint := NEW.successful;
        v_failed bigint := NEW.failed;
        v_duration double precision := NEW.total_duration_ms;
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            v_total := v_total - OLD.total_requests;
            v_successful := v_successful - OLD.successful;
            v_failed := v_failed - OLD.failed;
            v_duration := v_duration - OLD.total_duration_ms;
        END IF;
        INSERT INTO pgmetrics.route_metrics_daily AS d (
            route, method, period_start, period_end, total_requests, successful, failed,
            total_duration_ms, min_duration_ms, max_duration_ms, last_request_at
        ) VALUES (
            NEW.route, NEW.method, date_trunc('day', NEW.period_start, 'UTC'),
            date_trunc('day', NEW.period_start, 'UTC') + interval '24 hours', v_total, v_successful,
            v_failed, v_duration, NEW.min_duration_ms, NEW.max_duration_ms, NEW.last_request_at
        )
        ON CONFLICT ON CONSTRAINT route_metrics_daily_pkey DO UPDATE SET
            total_requests = d.total_requests + excluded.total_requests,
            successful = d.successful + excluded.successful,
            failed = d.failed + excluded.failed,
            total_duration_ms = d.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms = LEAST(d.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms = GREATEST(d.max_duration_ms, excluded.max_duration_ms),
            last_request_at = GREATEST(d.last_request_at, excluded.last_request_at);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER bench_row_level AFTER INSERT OR UPDATE ON pgmetrics.route_metrics
    FOR EACH ROW EXECUTE FUNCTION pgmetrics_bench_row_apply()
    """,
)
STATEMENT_TRIGGERS = ("route_metrics_daily_insert", "route_metrics_daily_update")
MODES = {"off": (), "statement": STATEMENT_TRIGGERS, "row": ("bench_row_level",)}


def _trigger_costs(cluster: LocalCluster, runs: int) -> list[tuple[str, dict[str, float]]]:
    """Median times of writes with no trigger, the statement-level triggers, and a row-level one."""
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE bench_triggers")
    dsn = cluster.dsn("bench_triggers")
    deploy(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        for statement in ROW_LEVEL:
            conn.execute(statement)

        def switch(mode: str) -> None:
            for name in (*STATEMENT_TRIGGERS, "bench_row_level"):
                verb = sql.SQL("ENABLE" if name in MODES[mode] else "DISABLE")
                conn.execute(
                    sql.SQL("ALTER TABLE pgmetrics.route_metrics {} TRIGGER {}").format(
                        verb, sql.Identifier(name)
                    )
                )

        def single_calls(mode: str) -> float:
            switch(mode)
            at = END - timedelta(hours=1)
            samples = []
            for i in range(2000):
                began = time.perf_counter()
                conn.execute(
                    "SELECT pgmetrics.record_route_metric(%s, 'GET', true, 12.5, %s)",
                    (f"/single/{i % 50}", at),
                )
                # The call appends an event; the fold is what upserts the hourly row.
                conn.execute("SELECT pgmetrics.fold_events()")
                samples.append((time.perf_counter() - began) * 1000)
            return statistics.median(samples)

        def upsert(mode: str, hour: datetime) -> float:
            switch(mode)
            return _median_ms(lambda: conn.execute(UPSERT, {"hour": hour, "rows": 10_000}), runs)

        single: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(3):  # interleaved, so that drifting load on the machine hits every mode
            for mode in MODES:
                single[mode].append(single_calls(mode))
        bulk = {mode: upsert(mode, END - timedelta(hours=10 + n)) for n, mode in enumerate(MODES)}
        switch("statement")
    return [
        (
            "one record_route_metric call and fold_events (upsert of an existing hour)",
            {mode: statistics.median(times) for mode, times in single.items()},
        ),
        ("10,000-row INSERT ... ON CONFLICT DO UPDATE (all rows conflict)", bulk),
    ]


def _fmt(ms: float) -> str:
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per query (median)")
    parser.add_argument("--append", type=Path, help="append the Markdown report to this file")
    args = parser.parse_args(argv)

    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    started = datetime.now(UTC)
    say(f"## {started:%Y-%m-%d %H:%M} UTC: `python -m bench.summaries --runs {args.runs}`")
    say()
    say(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with LocalCluster(durable=True) as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            say(f"PostgreSQL {_one(conn, 'SHOW server_version')}")
        conns: dict[int, psycopg.Connection[tuple[object, ...]]] = {}
        try:
            for days in (90, 365):
                name = f"bench_{days}_days"
                with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
                    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                deploy(cluster.dsn(name))
                conn = psycopg.connect(cluster.dsn(name), autocommit=True)
                conns[days] = conn
                began = time.perf_counter()
                _load(conn, END - timedelta(days=days), END)
                _check_daily_tier(conn)
                hourly = _one(conn, "SELECT count(*) FROM pgmetrics.route_metrics")
                daily = _one(conn, "SELECT count(*) FROM pgmetrics.route_metrics_daily")
                say(
                    f"- {days} days kept (database {name}): {hourly:,} hourly rows, "
                    f"{daily:,} daily rows (loaded through the triggers in "
                    f"{time.perf_counter() - began:.0f} s; daily tier checked equal to the "
                    "hourly tier)"
                )
            timings = _time_queries(conns, args.runs)
        finally:
            for conn in conns.values():
                conn.close()
        say()
        say("| Query | 90 days | 365 days | 365d/90d | Target | Met |")
        say("|---|---|---|---|---|---|")
        for query in _queries():
            t90, t365 = timings[90][query.name], timings[365][query.name]
            ratio = t365 / t90
            if query.target_ms is None:
                target, met = "-", "-"
            else:
                ok = t90 <= query.target_ms and t365 <= query.target_ms and ratio <= 1.2
                target = f"<= {query.target_ms:g} ms, ratio <= 1.2"
                met = "yes" if ok else "NO"
            say(f"| {query.name} | {_fmt(t90)} | {_fmt(t365)} | {ratio:.2f} | {target} | {met} |")
        say()
        say(
            "Cost of the daily tier to writers (medians, synchronous_commit off): no trigger, the "
            "statement-level triggers pgmetrics uses, and a row-level trigger doing the same work:"
        )
        say()
        say("| Write | no trigger | statement-level | added | row-level | added |")
        say("|---|---|---|---|---|---|")
        for name, t in _trigger_costs(cluster, args.runs):
            off, stmt, row = t["off"], t["statement"], t["row"]
            say(
                f"| {name} | {_fmt(off)} | {_fmt(stmt)} | {_fmt(stmt - off)} "
                f"| {_fmt(row)} | {_fmt(row - off)} |"
            )
        say()
    if args.append is not None:
        with args.append.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
