"""The rollup watermark of a v0.3.0 database starts after its last hourly row, so that every
read stays as it was; its revert rolls every hour up first, so that the earlier fold finds the
rollups complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pgmetrics.deploy import deploy, sqitch
from tests.conftest import Database

WRITES = [
    "SELECT pgmetrics.record_route_metric('/a', 'GET', true, 12.5, now())",
    "SELECT pgmetrics.record_route_metric('/a', 'GET', false, 80, now() - interval '3 hours')",
    "SELECT pgmetrics.record_route_metric('/b', 'POST', true, 0, now() - interval '2 days')",
    "SELECT pgmetrics.record_operation_metric('op', true, 4, now())",
    "SELECT pgmetrics.record_operation_metric('op', false, 9, now() - interval '20 days')",
]
RANGE = "%(start)s, %(end)s"
NOW = datetime.now(UTC)
READS = [
    *(
        f"SELECT * FROM pgmetrics.route_metrics_summary({RANGE}, '{bucket}') ORDER BY 1, 2, 3"
        for bucket in ("hour", "day", "week", "month", "all")
    ),
    f"SELECT * FROM pgmetrics.operation_metrics_summary({RANGE}, 'day') ORDER BY 1, 2",
    f"SELECT pgmetrics.route_duration_quantile(0.99, {RANGE})",
    *(
        f"SELECT * FROM pgmetrics.{kind}_metrics_by_{grain} ORDER BY 1, 2"
        for kind in ("route", "operation")
        for grain in ("day", "week", "month")
    ),
]


def _reads(db: Database) -> list[list[object]]:
    bounds = {"start": NOW - timedelta(days=40), "end": NOW + timedelta(days=40)}
    with db.connect() as conn:
        return [list(conn.execute(query, bounds).fetchall()) for query in READS]


@pytest.mark.slow
def test_the_watermark_keeps_every_read_both_ways(empty_db: Database) -> None:
    sqitch("deploy", empty_db.dsn, "--to", "@v0.3.0")
    with empty_db.connect() as conn:
        for write in WRITES:
            conn.execute(write)
        conn.execute("SELECT pgmetrics.fold_events()")
        # Pending when the change deploys: folded by the new fold.
        conn.execute("SELECT pgmetrics.record_route_metric('/p', 'GET', true, 1, now())")
    before = _reads(empty_db)

    deploy(empty_db.dsn)
    with empty_db.connect() as conn:
        row = conn.execute(
            "SELECT rolled_until = date_trunc('hour', now(), 'UTC') + interval '1 hour' "
            "FROM pgmetrics.rollup_watermark"
        ).fetchone()
        assert row == (True,), "the watermark starts after the hour already rolled up"
    assert _reads(empty_db) == before
    with empty_db.connect() as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        # An hour the rollups do not hold yet: the next hour.
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/a', 'GET', true, 30, now() + interval '1 hour')"
        )
        conn.execute("SELECT pgmetrics.fold_events()")
        unrolled = conn.execute(
            "SELECT count(*) FROM pgmetrics.route_metrics "
            "WHERE period_start >= (SELECT rolled_until FROM pgmetrics.rollup_watermark)"
        ).fetchone()
        assert unrolled == (1,)
    after = _reads(empty_db)
    assert after != before

    sqitch("revert", empty_db.dsn, "-y", "--to", "@v0.3.0")
    assert _reads(empty_db) == after, "the revert rolls the later hour up first"
    with empty_db.connect() as conn:
        assert conn.execute("SELECT to_regclass('pgmetrics.rollup_watermark')").fetchone() == (
            None,
        )

    deploy(empty_db.dsn)
    assert _reads(empty_db) == after, "and the deploy that follows starts after it"
