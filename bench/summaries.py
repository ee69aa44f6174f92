"""Summary read times at scale, over the hourly table and the rollups that fold_events builds.

Builds a throwaway durable cluster, deploys the schema with sqitch and loads 2,000 route keys
(1,000 routes x GET/POST) x 90 days of hourly cells through INSERT ... SELECT generate_series into
pgmetrics.route_cells in time order, as ingest_batch stages the cells of a live system, and runs
pgmetrics.fold_events() after each chunk of --chunk-days days, as a scheduled fold would, so that
the hourly table and the rollups (UTC day, ISO week, calendar month) are built as in production;
the rollups are then checked against the hourly rows. It does the same for 365 days in a second
database and times the summaries on both, alternating between them. Prints medians, targets and
verdicts as Markdown. --routes and --days make a smaller run.

The first release also measured here what its daily-tier triggers cost the writers. Those
triggers and the daily tables are gone: writers only append, and the fold that replaced them is
measured by bench.ingest and bench.backfill.

    python -m bench.summaries [--runs 15] [--routes 1000] [--days 90 365] [--chunk-days 10]
                              [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy

ROUTES = 1000
METHODS = ("GET", "POST")
END = datetime(2026, 11, 29, tzinfo=UTC)  # data ends here: the newest hour is END - 1 hour
CHUNK_DAYS = 10

LOAD = """
INSERT INTO pgmetrics.route_cells (
    route, method, period_start, total_requests, successful, total_duration_ms,
    min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram
)
SELECT
    '/api/resource' || lpad(k::text, 4, '0') || '/{id}', m.method, h,
    10 + (k + hr) %% 7, 10 + (k + hr) %% 7 - (k + hr) %% 3,
    (10 + (k + hr) %% 7) * 12.5, 1.5, 80 + (k + hr) %% 40, h + interval '59 minutes', 0, '{}'
FROM generate_series(0, %(routes)s - 1) AS k
CROSS JOIN unnest(%(methods)s::text[]) AS m (method)
CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 hour') AS h
CROSS JOIN LATERAL (SELECT extract(epoch FROM h)::bigint / 3600 AS hr) AS x
ORDER BY h, k, m.method
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


def _queries(short_days: int, routes: int) -> list[Query]:
    week = {"start": END - timedelta(days=7), "end": END, "bucket": "day", "tz": "UTC"}
    route = f"/api/resource{min(42, routes - 1):04d}/{{id}}"
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
            "7 days by day in Europe/Berlin, all keys (hourly tier, not a report zone, server)",
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
            f"{short_days} days, all, one route",
            ONE_ROUTE,
            {**week, "start": END - timedelta(days=short_days), "bucket": "all", "route": route},
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


def _load(
    conn: psycopg.Connection[tuple[object, ...]],
    first: datetime,
    last: datetime,
    routes: int,
    chunk_days: int,
) -> None:
    """Stages whole days [first, last) in chunks, each chunk one statement, and folds each."""
    day = first
    while day < last:
        stop = min(day + timedelta(days=chunk_days), last)
        conn.execute(
            LOAD,
            {
                "routes": routes,
                "methods": list(METHODS),
                "first": day,
                "last": stop - timedelta(hours=1),
            },
        )
        conn.execute("SELECT pgmetrics.fold_events()")
        day = stop
    conn.execute("VACUUM ANALYZE pgmetrics.route_cells")
    conn.execute("VACUUM ANALYZE pgmetrics.route_metrics")
    conn.execute("VACUUM ANALYZE pgmetrics.route_metrics_rollup")


def _check_rollups(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Every UTC rollup row (day, week, month) equals the sum of its hourly rows, and no cell is
    left pending."""
    row = conn.execute(
        """
        SELECT count(*) FROM (
            SELECT route, method, g.grain, date_trunc(g.grain, period_start, 'UTC') AS period,
                   sum(total_requests) AS n, sum(failed) AS f, max(last_request_at) AS l
            FROM pgmetrics.route_metrics
            CROSS JOIN unnest(ARRAY['day', 'week', 'month']) AS g (grain)
            GROUP BY 1, 2, 3, 4
        ) AS h
        FULL JOIN (
            SELECT * FROM pgmetrics.route_metrics_rollup WHERE zone = 'UTC'
        ) AS r
            ON r.route = h.route AND r.method = h.method AND r.grain = h.grain
            AND r.period_start = h.period
        WHERE h.n IS DISTINCT FROM r.total_requests OR h.f IS DISTINCT FROM r.failed
            OR h.l IS DISTINCT FROM r.last_request_at
        """
    ).fetchone()
    assert row == (0,), f"rollups differ from the hourly tier in {row} rows"
    pending = conn.execute("SELECT count(*) FROM pgmetrics.route_cells").fetchone()
    assert pending == (0,), f"{pending} cells left unfolded"


def _time_queries(
    conns: dict[int, psycopg.Connection[tuple[object, ...]]],
    runs: int,
    short_days: int,
    routes: int,
) -> dict[int, dict[str, float]]:
    """Median times per database; the runs alternate between the databases, so that the load
    other processes put on the machine weighs on both alike."""
    results: dict[int, dict[str, float]] = {days: {} for days in conns}
    for query in _queries(short_days, routes):
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


def _fmt(ms: float) -> str:
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per query (median)")
    parser.add_argument("--routes", type=int, default=ROUTES, help="routes (x GET/POST = keys)")
    parser.add_argument(
        "--days",
        type=int,
        nargs=2,
        default=[90, 365],
        metavar=("SHORT", "LONG"),
        help="days kept in the two databases",
    )
    parser.add_argument("--chunk-days", type=int, default=CHUNK_DAYS, help="days staged per fold")
    parser.add_argument(
        "--no-record", action="store_true", help="print only, leave bench/RESULTS.md as it is"
    )
    args = parser.parse_args(argv)
    short, long = args.days

    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    with LocalCluster(durable=True) as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            say(f"PostgreSQL {_one(conn, 'SHOW server_version')}")
        conns: dict[int, psycopg.Connection[tuple[object, ...]]] = {}
        try:
            for days in (short, long):
                name = f"bench_{days}_days"
                with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
                    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                deploy(cluster.dsn(name))
                conn = psycopg.connect(cluster.dsn(name), autocommit=True)
                conns[days] = conn
                began = time.perf_counter()
                _load(conn, END - timedelta(days=days), END, args.routes, args.chunk_days)
                loaded = time.perf_counter() - began
                _check_rollups(conn)
                hourly = _one(conn, "SELECT count(*) FROM pgmetrics.route_metrics")
                rollups = _one(conn, "SELECT count(*) FROM pgmetrics.route_metrics_rollup")
                say(
                    f"- {days} days kept (database {name}): {hourly:,} hourly rows, "
                    f"{rollups:,} rollup rows (UTC day, week, month; staged in route_cells and "
                    f"folded every {args.chunk_days} days in {loaded:.0f} s; rollups checked "
                    "equal to the hourly tier)"
                )
            timings = _time_queries(conns, args.runs, short, args.routes)
        finally:
            for conn in conns.values():
                conn.close()
        say()
        say(f"| Query | {short} days | {long} days | {long}d/{short}d | Target | Met |")
        say("|---|---|---|---|---|---|")
        for query in _queries(short, args.routes):
            t90, t365 = timings[short][query.name], timings[long][query.name]
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
            "The daily-tier triggers of the first release, and the measure of their cost to "
            "writers, are gone: writers only append, and the fold's cost is measured by "
            "bench.ingest and bench.backfill."
        )
        say()
    if not args.no_record:
        append_results("Summaries at 2,000 keys x 90 and x 365 days", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
