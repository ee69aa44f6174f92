"""Deploying the daily tier onto a database that already holds hourly rows sums them into it."""

from __future__ import annotations

from pgmetrics.deploy import deploy, sqitch
from tests.conftest import Database


def test_existing_hourly_rows_are_summed_when_the_triggers_arrive(empty_db: Database) -> None:
    sqitch("deploy", empty_db.dsn, "--to", "function_record_operation_metric")
    with empty_db.connect() as conn:
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/old', 'GET', true, 5, '2026-03-01 10:00+00')"
        )
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/old', 'GET', false, 7, '2026-03-01 20:00+00')"
        )
        conn.execute(
            "SELECT pgmetrics.record_operation_metric('job', true, 1, '2026-03-02 10:00+00')"
        )
    deploy(empty_db.dsn)
    with empty_db.connect() as conn:
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/old', 'GET', true, 1, '2026-03-01 23:00+00')"
        )
        routes = conn.execute(
            "SELECT route, method, period_start = '2026-03-01 00:00+00', total_requests, failed, "
            "min_duration_ms, max_duration_ms FROM pgmetrics.route_metrics_daily"
        ).fetchall()
        operations = conn.execute(
            "SELECT operation, total_executions FROM pgmetrics.operation_metrics_daily"
        ).fetchall()
    assert routes == [("/old", "GET", True, 3, 1, 1.0, 7.0)]
    assert operations == [("job", 1)]
