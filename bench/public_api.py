"""What the benchmarks of the public SQL API share (bench.reads, bench.backfill, bench.ingest).

They load through ``ingest_batch`` or the recording functions, materialize with ``fold_events``
when the schema has it, read through the summary and quantile functions and change settings with
``set_setting``: never a pgmetrics table directly, so that they run unchanged on every schema that
keeps the SQL API and can judge a redesign of what lies behind it.
"""

from __future__ import annotations

import math
import random
import statistics
import time

import psycopg
from psycopg import sql

from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy
from pgmetrics.histogram import Histogram

Conn = psycopg.Connection[tuple[object, ...]]

REPORT_TIME_ZONES = "America/New_York,Asia/Kolkata"


def new_database(cluster: LocalCluster, name: str) -> str:
    """Creates database ``name``, deploys the schema into it with sqitch, returns its DSN."""
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = cluster.dsn(name)
    deploy(dsn)
    return dsn


def set_report_time_zones(conn: Conn, zones: str = REPORT_TIME_ZONES) -> str:
    """Adds each of ``zones`` (comma-separated) with ``add_report_zone``, so that their local
    days are rolled up; says what happened, and carries on on schemas without the function."""
    try:
        for zone in zones.split(","):
            conn.execute("SELECT pgmetrics.add_report_zone(%s)", (zone,))
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0]
        return f"report zones not set (schema without them: {exc.sqlstate} {first})"
    return f"report zones {zones}"


def has_fold(conn: Conn) -> bool:
    row = conn.execute("SELECT to_regproc('pgmetrics.fold_events') IS NOT NULL").fetchone()
    return bool(row and row[0])


def fold(conn: Conn) -> float | None:
    """Seconds ``fold_events()`` took, or None when the schema has no such function."""
    if not has_fold(conn):
        return None
    began = time.perf_counter()
    conn.execute("SELECT pgmetrics.fold_events()")
    return time.perf_counter() - began


def lognormal(rng: random.Random, count: int, median_ms: float, sigma: float) -> list[float]:
    return [rng.lognormvariate(math.log(median_ms), sigma) for _ in range(count)]


class PooledHistogram(Histogram):
    """A histogram shared by many cells of a benchmark: its JSON form is rendered once, so that
    building batches from a pool of histograms costs what the cells' other fields cost."""

    __slots__ = ("_json", "events", "max_ms", "min_ms", "sum_ms")

    def __init__(self, values: list[float]) -> None:
        super().__init__()
        for value in values:
            self.add(value)
        self.events = len(values)
        self.sum_ms = sum(values)
        self.min_ms = min(values)
        self.max_ms = max(values)
        self._json = super().to_json()

    def to_json(self) -> dict[str, object]:
        return self._json


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def fmt_ms(ms: float) -> str:
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:,.1f} ms" if ms < 1000 else f"{ms / 1000:,.2f} s"
