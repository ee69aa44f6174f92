"""Summary reads through the public SQL API against a plain GROUP BY of the same counts, in the
same run (goal: every read at <= 2x its baseline).

Data, in two databases of one durable throwaway cluster, each loaded the same way on both sides:
- "week": --keys route keys (routes x GET/POST) x --days days (default 2,000 x 9) of hourly
  cells, for the 24-hour, 7-day and one-week shapes;
- "month": --long-keys keys x --long-days days (default 32 days and as many keys as give the
  same number of cells: 562), for the 30-day shapes (calendar month, 4 ISO weeks, a 30-day
  range), so that both hold about 432,000 cells and load in the same time.
Each cell is the histogram of --events (1,000) lognormal durations (median 20 ms, sigma 1:
about 220 buckets). To keep generation fast, a pool of --pool (64) distinct histograms is drawn
once with a fixed seed and assigned to the cells round-robin. pgmetrics gets the cells through
ingest_batch (bench.ingest.send_batch, batches of --batch cells in time order), then
fold_events() when the schema has it, after every --fold-every batches as a scheduled fold
would, and at the end (it materializes pending work: rollup tiers in schemas that keep them);
add_report_zone('America/New_York') and add_report_zone('Asia/Kolkata') are tried first and
skipped on schemas without it. The baseline is a plain table bench_plain (route,
method, hour, total, successful, failed, sum, min, max, last; primary key (route, method, hour)
and an index on hour) with the same counts and no histograms, read by one GROUP BY per shape
(date_trunc in the shape's zone).

Each read is timed on the server side, as SELECT count(s) FROM (<read>) AS s (the rows are
computed in full, not sent), warmed once, then --runs times alternating with its baseline;
the medians are compared. route_duration_quantile is compared with the baseline's 'all'
GROUP BY over the same range (counts without percentiles). After loading, the "week" data gets
cells for every hour of the current UTC day up to the hour under way (on both sides, then a
fold), so that the route_metrics_by_day|week|month views, read whole, merge the open period of
every key with its hour under way, as on a live server; their baseline is the GROUP BY over the
whole table. A shape the schema refuses (month buckets before they exist) is reported as such.

    python -m bench.reads [--keys 2000] [--days 9] [--long-days 32] [--fold-every 0] [--runs 5]
        [--no-append]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import LiteralString
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from bench.ingest import (
    EncodedBatch,
    encode_batch,
    histogram_pool,
    pool_cell,
    route_cell_oid,
    send_encoded,
)
from bench.public_api import (
    Conn,
    PooledHistogram,
    fmt_ms,
    fold,
    median_ms,
    new_database,
    set_report_time_zones,
)
from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.cells import RouteCells

END = datetime(2026, 12, 1, tzinfo=UTC)  # data ends here (exclusive): a Tuesday, 00:00 UTC
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
CHICAGO = ZoneInfo("America/Chicago")  # not a report zone: its days merge hourly rows
ONE_ROUTE = "/api/resource00042/{id}"  # two keys: GET and POST
GOAL = 2.0
EVERYTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def key_name(key: int) -> tuple[str, str]:
    return f"/api/resource{key // 2:05d}/{{id}}", ("GET", "POST")[key % 2]


@dataclass(frozen=True)
class Shape:
    name: str
    dataset: str  # "week" or "month"
    start: datetime
    end: datetime
    bucket: str
    tz: str = "UTC"
    route: str | None = None
    quantile: float | None = None
    view: str | None = None  # read the whole view (every period) instead of the summary function


def shapes() -> list[Shape]:
    nov = datetime(2026, 11, 1, tzinfo=UTC)
    week = END - timedelta(days=7)
    ny = (datetime(2026, 11, 23, tzinfo=NEW_YORK), datetime(2026, 11, 30, tzinfo=NEW_YORK))
    kol = (datetime(2026, 11, 24, tzinfo=KOLKATA), datetime(2026, 12, 1, tzinfo=KOLKATA))
    chicago = (datetime(2026, 11, 23, tzinfo=CHICAGO), datetime(2026, 11, 30, tzinfo=CHICAGO))
    # Ranges that start at 13:00 UTC and end at 13:00 UTC, so neither edge is on a day.
    all7 = (END - timedelta(days=8, hours=-13), END - timedelta(hours=11))
    all30 = (END - timedelta(days=31, hours=-13), END - timedelta(hours=11))
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    return [
        Shape("24 h by UTC hour, every key", "week", END - timedelta(days=1), END, "hour"),
        Shape("7 days by UTC day, every key", "week", week, END, "day"),
        Shape("7 local days in America/New_York, every key", "week", *ny, "day", NEW_YORK.key),
        Shape("7 local days in Asia/Kolkata, every key", "week", *kol, "day", KOLKATA.key),
        Shape(
            "7 local days in America/Chicago (no local-day rollup), every key",
            "week",
            *chicago,
            "day",
            CHICAGO.key,
        ),
        Shape("1 ISO week by week, every key", "week", monday - timedelta(days=7), monday, "week"),
        Shape(
            "4 ISO weeks by week, every key", "month", monday - timedelta(days=28), monday, "week"
        ),
        Shape("calendar month (November, 30 days) by month, every key", "month", nov, END, "month"),
        Shape("7 days from 13:00 UTC, all, every key", "week", *all7, "all"),
        Shape("30 days from 13:00 UTC, all, every key", "month", *all30, "all"),
        Shape(
            "route_duration_quantile(0.99), 7 days, every key together",
            "week",
            week,
            END,
            "all",
            quantile=0.99,
        ),
        Shape("7 days by UTC hour, one route", "week", week, END, "hour", route=ONE_ROUTE),
        Shape(
            "7 local days in America/New_York, one route",
            "week",
            *ny,
            "day",
            NEW_YORK.key,
            route=ONE_ROUTE,
        ),
        Shape("30 days from 13:00 UTC, all, one route", "month", *all30, "all", route=ONE_ROUTE),
        Shape(
            "route_duration_quantile(0.99), 7 days, one route",
            "week",
            week,
            END,
            "all",
            route=ONE_ROUTE,
            quantile=0.99,
        ),
        # The dashboard views, every period of every key, with the hour under way staged
        # (_stage_today): the open day, week and month of each key merge its rollup row with it.
        *(
            Shape(
                f"route_metrics_by_{bucket}, every period, with the hour under way, every key",
                "week",
                EVERYTHING[0],
                EVERYTHING[1],
                bucket,
                view=f"route_metrics_by_{bucket}",
            )
            for bucket in ("day", "week", "month")
        ),
    ]


SUMMARY: LiteralString = (
    "SELECT count(s) FROM pgmetrics.route_metrics_summary("
    "%(start)s, %(end)s, %(bucket)s, %(route)s, NULL, %(tz)s) AS s"
)
QUANTILE: LiteralString = (
    "SELECT pgmetrics.route_duration_quantile(%(q)s, %(start)s, %(end)s, %(route)s)"
)

VIEWS: dict[str, LiteralString] = {
    "route_metrics_by_day": "SELECT count(v) FROM pgmetrics.route_metrics_by_day AS v",
    "route_metrics_by_week": "SELECT count(v) FROM pgmetrics.route_metrics_by_week AS v",
    "route_metrics_by_month": "SELECT count(v) FROM pgmetrics.route_metrics_by_month AS v",
}


def pgmetrics_read(shape: Shape) -> tuple[LiteralString, dict[str, object]]:
    params: dict[str, object] = {
        "start": shape.start,
        "end": shape.end,
        "bucket": shape.bucket,
        "route": shape.route,
        "tz": shape.tz,
        "q": shape.quantile,
    }
    if shape.view is not None:
        return VIEWS[shape.view], params
    return (QUANTILE if shape.quantile is not None else SUMMARY), params


def baseline_read(shape: Shape) -> sql.Composed:
    """The plain GROUP BY computing the same counts as the shape, without histograms."""
    if shape.bucket == "all":
        bucket = sql.SQL("{}::timestamptz").format(sql.Literal(shape.start.isoformat()))
    else:
        bucket = sql.SQL("date_trunc({}, p.hour, {})").format(
            sql.Literal(shape.bucket), sql.Literal(shape.tz)
        )
    where = sql.SQL("p.hour >= {} AND p.hour < {}").format(
        sql.Literal(shape.start.isoformat()), sql.Literal(shape.end.isoformat())
    )
    if shape.route is not None:
        where = sql.SQL("{} AND p.route = {}").format(where, sql.Literal(shape.route))
    return sql.SQL(
        """
        SELECT count(s) FROM (
            SELECT {bucket} AS bucket_start, p.route, p.method,
                   sum(p.total) AS total_requests, sum(p.successful) AS successful,
                   sum(p.failed) AS failed, sum(p.failed)::float8 / sum(p.total) AS error_rate,
                   sum(p.sum_ms) AS total_duration_ms,
                   sum(p.sum_ms) / sum(p.total) AS average_duration_ms,
                   min(p.min_ms) AS min_duration_ms, max(p.max_ms) AS max_duration_ms,
                   max(p.last_at) AS last_request_at
            FROM bench_plain AS p
            WHERE {where}
            GROUP BY 1, 2, 3
        ) AS s
        """
    ).format(bucket=bucket, where=where)


PLAIN_TABLES: tuple[LiteralString, ...] = (
    """
CREATE TABLE bench_plain (
    route text NOT NULL,
    method text NOT NULL,
    hour timestamptz NOT NULL,
    total bigint NOT NULL,
    successful bigint NOT NULL,
    failed bigint NOT NULL,
    sum_ms double precision NOT NULL,
    min_ms double precision NOT NULL,
    max_ms double precision NOT NULL,
    last_at timestamptz NOT NULL,
    PRIMARY KEY (route, method, hour)
)
""",
    "CREATE INDEX bench_plain_hour ON bench_plain (hour)",
    "CREATE TABLE bench_pool (id int PRIMARY KEY, n bigint, sum_ms float8, min_ms float8, "
    "max_ms float8)",
)
# Cell i = hour index * keys + key, as in _cells: the same pool entry and failures both sides.
PLAIN_LOAD: LiteralString = """
INSERT INTO bench_plain
SELECT '/api/resource' || lpad((k / 2)::text, 5, '0') || '/{id}',
       CASE k %% 2 WHEN 0 THEN 'GET' ELSE 'POST' END,
       %(first)s::timestamptz + h * interval '1 hour',
       p.n, p.n - (h::bigint * %(keys)s + k) %% 7, (h::bigint * %(keys)s + k) %% 7,
       p.sum_ms, p.min_ms, p.max_ms,
       %(first)s::timestamptz + h * interval '1 hour' + interval '59 minutes 59 seconds'
FROM generate_series(%(h0)s, %(h1)s - 1) AS h
CROSS JOIN generate_series(0, %(keys)s - 1) AS k
JOIN bench_pool AS p ON p.id = (h::bigint * %(keys)s + k) %% %(pool)s
ORDER BY h, k
"""


@dataclass
class Dataset:
    name: str
    keys: int
    days: int
    conn: Conn
    notes: str = ""


def _cells(pool: list[PooledHistogram], keys: int, first: datetime, lo: int, hi: int) -> RouteCells:
    hour0 = int(first.timestamp()) // 3600
    cells: RouteCells = {}
    for i in range(lo, hi):
        h, key = divmod(i, keys)
        route, method = key_name(key)
        cells[(route, method, hour0 + h)] = pool_cell(
            pool[i % len(pool)], i, first + timedelta(hours=h)
        )
    return cells


def _batches(keys: int, days: int, batch: int) -> Iterator[tuple[int, int]]:
    total = keys * days * 24
    for lo in range(0, total, batch):
        yield lo, min(lo + batch, total)


def _load(dataset: Dataset, pool: list[PooledHistogram], batch: int, fold_every: int) -> None:
    conn, keys, days = dataset.conn, dataset.keys, dataset.days
    first = END - timedelta(days=days)
    zones = set_report_time_zones(conn)
    oid = route_cell_oid(conn)

    def encode(lo: int, hi: int) -> EncodedBatch:
        return encode_batch(oid, _cells(pool, keys, first, lo, hi))

    began = time.perf_counter()
    folds: list[float | None] = []
    # The next batch is built and rendered in a thread while the server applies this one.
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending: Future[EncodedBatch] | None = None
        for number, (lo, hi) in enumerate(_batches(keys, days, batch)):
            following = worker.submit(encode, lo, hi)
            if pending is not None:
                send_encoded(conn, uuid.uuid4(), pending.result())
                if fold_every and number % fold_every == 0:
                    folds.append(fold(conn))
            pending = following
        if pending is not None:
            send_encoded(conn, uuid.uuid4(), pending.result())
    folds.append(fold(conn))
    fold_total = sum(f or 0.0 for f in folds)
    loaded = time.perf_counter() - began - fold_total
    folded = None if folds[-1] is None else fold_total
    cells = keys * days * 24
    fold_note = (
        "no fold_events"
        if folded is None
        else f"fold_events {folded:.1f} s in {len(folds)} call{'s' if len(folds) > 1 else ''}"
    )
    for statement in PLAIN_TABLES:
        conn.execute(statement)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO bench_pool VALUES (%s, %s, %s, %s, %s)",
            [(i, h.events, h.sum_ms, h.min_ms, h.max_ms) for i, h in enumerate(pool)],
        )
    hours = days * 24
    for h0 in range(0, hours, 24):
        conn.execute(
            PLAIN_LOAD,
            {"first": first, "h0": h0, "h1": min(h0 + 24, hours), "keys": keys, "pool": len(pool)},
        )
    conn.execute("VACUUM ANALYZE")
    _check(conn, first)
    dataset.notes = (
        f"{keys:,} keys x {days} days = {cells:,} cells, loaded through ingest_batch in "
        f"{loaded:.0f} s ({cells / loaded:,.0f} cells/s, batches of {batch:,}, rendering "
        f"overlapped), {fold_note}; {zones}"
    )


def _stage_today(dataset: Dataset, pool: list[PooledHistogram], batch: int) -> str:
    """Cells for every hour of the current UTC day up to the hour under way, on both sides, then a
    fold: the rollups take the hours that are over and the hour under way stays in the hourly
    tier, as on a live server, so that the views merge the open period of every key."""
    conn, keys = dataset.conn, dataset.keys
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hours = now.hour + 1
    oid = route_cell_oid(conn)
    total = keys * hours
    for lo in range(0, total, batch):
        cells = _cells(pool, keys, today, lo, min(lo + batch, total))
        send_encoded(conn, uuid.uuid4(), encode_batch(oid, cells))
    folded = fold(conn) or 0.0
    conn.execute(
        PLAIN_LOAD, {"first": today, "h0": 0, "h1": hours, "keys": keys, "pool": len(pool)}
    )
    conn.execute("VACUUM ANALYZE")
    return (
        f"then {total:,} cells for the {hours} hours of {today:%Y-%m-%d} up to the hour under "
        f"way, folded in {folded:.1f} s"
    )


def _check(conn: Conn, first: datetime) -> None:
    """Both sides hold the same counts (read through the summary function, by UTC day, the
    cheapest shape on every schema)."""
    ours = conn.execute(
        "SELECT sum(total_requests), sum(failed) "
        "FROM pgmetrics.route_metrics_summary(%s, %s, 'day')",
        (first, END),
    ).fetchone()
    plain = conn.execute("SELECT sum(total), sum(failed) FROM bench_plain").fetchone()
    assert ours == plain, f"pgmetrics holds {ours}, the baseline {plain}"


def _time(conn: Conn, query: LiteralString | sql.Composed, params: dict[str, object]) -> float:
    began = time.perf_counter()
    conn.execute(query, params).fetchall()
    return time.perf_counter() - began


def _measure(
    datasets: dict[str, Dataset], runs: int
) -> list[tuple[Shape, float | None, float, str]]:
    results: list[tuple[Shape, float | None, float, str]] = []
    for shape in shapes():
        conn = datasets[shape.dataset].conn
        query, params = pgmetrics_read(shape)
        baseline = baseline_read(shape)
        note = ""
        try:
            _time(conn, query, params)  # warm the caches and the plans
        except psycopg.Error as exc:
            note = f"refused by this schema: {exc.sqlstate} {str(exc).splitlines()[0]}"
        _time(conn, baseline, {})
        ours: list[float] = []
        plain: list[float] = []
        for _ in range(runs):
            if not note:
                ours.append(_time(conn, query, params))
            plain.append(_time(conn, baseline, {}))
        results.append((shape, median_ms(ours) if ours else None, median_ms(plain), note))
        ours_text = note or fmt_ms(results[-1][1] or 0.0)
        print(f"  {shape.name}: {ours_text} against {fmt_ms(results[-1][2])}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=2000, help="keys of the 'week' data")
    parser.add_argument("--days", type=int, default=9, help="days of the 'week' data")
    parser.add_argument("--long-days", type=int, default=32, help="days of the 'month' data")
    parser.add_argument(
        "--long-keys", type=int, help="keys of the 'month' data (default: as many cells as week)"
    )
    parser.add_argument("--events", type=int, default=1000, help="durations per cell")
    parser.add_argument("--pool", type=int, default=64, help="distinct histograms")
    parser.add_argument("--batch", type=int, default=4000, help="cells per ingest_batch call")
    parser.add_argument(
        "--fold-every", type=int, default=0, help="fold after every N batches (0: once, at the end)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    long_keys = args.long_keys or max(1, round(args.keys * args.days / args.long_days))
    pool = histogram_pool(args.pool, args.events)
    buckets = sum(len(h.counts) for h in pool) / len(pool)
    datasets: dict[str, Dataset] = {}
    with LocalCluster(durable=True) as cluster:
        try:
            for name, keys, days in (
                ("week", args.keys, args.days),
                ("month", long_keys, args.long_days),
            ):
                dsn = new_database(cluster, f"bench_{name}")
                conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
                datasets[name] = Dataset(name, keys, days, conn)
                _load(datasets[name], pool, args.batch, args.fold_every)
                if name == "week":
                    datasets[name].notes += "; " + _stage_today(datasets[name], pool, args.batch)
                print(f"{name}: {datasets[name].notes}", flush=True)
            results = _measure(datasets, args.runs)
        finally:
            for dataset in datasets.values():
                dataset.conn.close()
    lines = [
        f"Hourly cells ending {END:%Y-%m-%d %H:%M} UTC, each the histogram of {args.events:,} "
        f"lognormal durations (median 20 ms, sigma 1; {buckets:.0f} buckets on average; a pool "
        f"of {args.pool} histograms assigned round-robin). Median server time of {args.runs} "
        "runs (SELECT count(s) FROM (read) AS s), alternating with the baseline: a plain GROUP "
        "BY of the same counts (no histograms) over a table keyed (route, method, hour) with an "
        "index on hour.",
        "",
        *(f"- {name} data: {dataset.notes}" for name, dataset in datasets.items()),
        "",
        f"| read | data | pgmetrics | GROUP BY (baseline) | ratio | goal <= {GOAL:g}x |",
        "|---|---|---|---|---|---|",
    ]
    for shape, ours, plain, note in results:
        if ours is None:
            lines.append(f"| {shape.name} | {shape.dataset} | {note} | {fmt_ms(plain)} | | |")
            continue
        ratio = ours / plain
        verdict = "met" if ratio <= GOAL else "NOT met"
        lines.append(
            f"| {shape.name} | {shape.dataset} | {fmt_ms(ours)} | {fmt_ms(plain)} "
            f"| {ratio:.2f}x | {verdict} |"
        )
    print("\n".join(lines))
    if not args.no_append:
        append_results("Reads against GROUP BY", lines)


if __name__ == "__main__":
    main()
