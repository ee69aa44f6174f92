"""Deploying the daily tier onto a database that already holds hourly rows sums them into it."""

from __future__ import annotations

from pgmetrics.deploy import deploy, sqitch
from tests.conftest import Database


def test_existing_hourly_rows_are_summed_when_the_triggers_arrive(empty_db: Database) -> None:
    # Hourly rows as the recording functions of that point of the plan wrote them: directly.
    sqitch("deploy", empty_db.dsn, "--to", "function_record_operation_metric")
    with empty_db.connect() as conn:
        conn.execute(
            "INSERT INTO pgmetrics.route_metrics (route, method, period_start, period_end, "
            "total_requests, successful, failed, total_duration_ms, min_duration_ms, "
            "max_duration_ms, last_request_at) VALUES "
            "('/old', 'GET', '2026-03-01 10:00+00', '2026-03-01 11:00+00', 1, 1, 0, 5, 5, 5, "
            "'2026-03-01 10:00+00'), "
            "('/old', 'GET', '2026-03-01 20:00+00', '2026-03-01 21:00+00', 1, 0, 1, 7, 7, 7, "
            "'2026-03-01 20:00+00')"
        )
        conn.execute(
            "INSERT INTO pgmetrics.operation_metrics (operation, period_start, period_end, "
            "total_executions, successful, failed, total_duration_ms, min_duration_ms, "
            "max_duration_ms, last_execution_at) VALUES "
            "('job', '2026-03-02 10:00+00', '2026-03-02 11:00+00', 1, 1, 0, 1, 1, 1, "
            "'2026-03-02 10:00+00')"
        )
    deploy(empty_db.dsn)
    with empty_db.connect() as conn:
        conn.execute(
            "SELECT pgmetrics.record_route_metric('/old', 'GET', true, 1, '2026-03-01 23:00+00')"
        )
        conn.execute("SELECT pgmetrics.fold_events()")
        routes = conn.execute(
            "SELECT route, method, period_start = '2026-03-01 00:00+00', total_requests, failed, "
            "min_duration_ms, max_duration_ms FROM pgmetrics.route_metrics_daily"
        ).fetchall()
        operations = conn.execute(
            "SELECT operation, total_executions FROM pgmetrics.operation_metrics_daily"
        ).fetchall()
    assert routes == [("/old", "GET", True, 3, 1, 1.0, 7.0)]
    assert operations == [("job", 1)]
