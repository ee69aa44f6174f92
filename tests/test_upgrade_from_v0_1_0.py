"""A database holding data of release v0.1.0 is carried into the rollup tiers by the deploy."""

from __future__ import annotations

import uuid

import pytest
from psycopg.types.json import Jsonb

from pgmetrics.cells import Cell, route_cells_json
from pgmetrics.deploy import deploy, sqitch
from pgmetrics.histogram import Histogram
from tests.conftest import Database

SUMS = (
    "SELECT grain, period_start::text, total_requests, failed, min_duration_ms, max_duration_ms, "
    "zero_count, duration_histogram, duration_quantiles "
    "FROM pgmetrics.route_metrics_rollup WHERE route = '/old' ORDER BY grain, period_start"
)


def _v010_cell(hour: int, durations: list[float]) -> dict[str, object]:
    histogram = Histogram.of(durations)
    cells = route_cells_json(
        {
            ("/old", "GET", hour): Cell(
                len(durations),
                len(durations) - 1,
                sum(durations),
                min(durations),
                max(durations),
                hour * 3600.0 + 60,
                histogram,
            )
        }
    )
    return cells[0]


@pytest.mark.slow
def test_v0_1_0_data_reaches_every_rollup(empty_db: Database) -> None:
    sqitch("deploy", empty_db.dsn, "--to", "@v0.1.0")
    march_1 = 20513 * 24  # 2026-03-01 00:00 UTC, in hours since the epoch
    with empty_db.connect() as conn:
        # Written as v0.1.0 writes: a JSON batch merged into the hourly and daily tiers, and
        # events folded.
        conn.execute(
            "SELECT pgmetrics.ingest_batch(%s, %s, NULL)",
            (uuid.uuid4(), Jsonb([_v010_cell(march_1 + 10, [5.0, 0.0, 40.0])])),
        )
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/old', 'GET', false, 7, '2026-03-02 20:00+00')"
        )
        conn.execute("SELECT pgmetrics.fold_events()")
        before = conn.execute(
            "SELECT period_start::text, total_requests, failed, duration_histogram, "
            "duration_quantiles FROM pgmetrics.route_metrics_daily ORDER BY period_start"
        ).fetchall()
    deploy(empty_db.dsn)
    with empty_db.connect() as conn:
        rows = conn.execute(SUMS).fetchall()
        days = [(r[1], r[2], r[3], r[7], r[8]) for r in rows if r[0] == "day"]
        assert days == before, "the UTC days of v0.1.0 are the day rollup, quantiles included"
        weeks = [r[:7] for r in rows if r[0] in ("week", "month")]
        assert weeks == [
            ("month", "2026-03-01 00:00:00+00", 4, 2, 0.0, 40.0, 1),
            ("week", "2026-02-23 00:00:00+00", 3, 1, 0.0, 40.0, 1),
            ("week", "2026-03-02 00:00:00+00", 1, 1, 7.0, 7.0, 0),
        ]
        # From here on the fold keeps them: a late event of the first day reaches its day, week
        # and month.
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/old', 'GET', true, 2, '2026-03-01 23:00+00')"
        )
        conn.execute("SELECT pgmetrics.fold_events()")
        totals = conn.execute(
            "SELECT grain, total_requests FROM pgmetrics.route_metrics_rollup "
            "WHERE period_start <= '2026-03-01' ORDER BY grain, period_start DESC"
        ).fetchall()
    assert totals == [("day", 4), ("month", 5), ("week", 4)]
