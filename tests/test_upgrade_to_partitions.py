"""The hourly tier of a v0.2.0 database becomes partitioned by the deploy, keeping every row, and
its revert makes it one table again, still keeping every row."""

from __future__ import annotations

import pytest

from pgmetrics.deploy import deploy, sqitch
from tests.conftest import Database

ROUTES = "SELECT * FROM pgmetrics.route_metrics ORDER BY route, method, period_start"
OPERATIONS = "SELECT * FROM pgmetrics.operation_metrics ORDER BY operation, period_start"
VIEW = "SELECT * FROM pgmetrics.route_metrics_by_hour ORDER BY route, method, bucket_start"
KIND = (
    "SELECT relkind::text FROM pg_class WHERE oid IN "
    "('pgmetrics.route_metrics'::regclass, 'pgmetrics.operation_metrics'::regclass)"
)
WHERE = "SELECT DISTINCT tableoid::regclass::text FROM pgmetrics.route_metrics ORDER BY 1"

# Hours of days kept (today, 2 and 30 days ago), of a day long expired and of a day far ahead.
WRITES = [
    "SELECT pgmetrics.record_route_metric('/a', 'GET', true, 12.5, now())",
    "SELECT pgmetrics.record_route_metric('/a', 'GET', false, 80, now() - interval '2 days')",
    "SELECT pgmetrics.record_route_metric('/b', 'POST', true, 0, now() - interval '30 days')",
    "SELECT pgmetrics.record_route_metric('/b', 'POST', true, 3, now() - interval '400 days')",
    "SELECT pgmetrics.record_route_metric('/c', 'PUT', true, 7, '2999-01-01 10:00+00')",
    "SELECT pgmetrics.record_operation_metric('op', true, 4, now() - interval '2 days')",
    "SELECT pgmetrics.record_operation_metric('op', false, 9, now() - interval '500 days')",
]


def _state(db: Database) -> tuple[list[object], ...]:
    with db.connect() as conn:
        return tuple(list(conn.execute(query).fetchall()) for query in (ROUTES, OPERATIONS, VIEW))


@pytest.mark.slow
def test_partitioning_keeps_the_rows_both_ways(empty_db: Database) -> None:
    sqitch("deploy", empty_db.dsn, "--to", "@v0.2.0")
    with empty_db.connect() as conn:
        for write in WRITES:
            conn.execute(write)
        conn.execute("SELECT pgmetrics.fold_events()")
        # An event still pending stays pending across the change.
        conn.execute("SELECT pgmetrics.record_route_metric('/p', 'GET', true, 1, now())")
        assert conn.execute(KIND).fetchall() == [("r",), ("r",)]
    before = _state(empty_db)
    assert len(before[0]) == 5
    assert len(before[1]) == 2

    deploy(empty_db.dsn)
    assert _state(empty_db) == before, "every hourly row is kept, every column equal"
    with empty_db.connect() as conn:
        assert conn.execute(KIND).fetchall() == [("p",), ("p",)]
        places = [row[0] for row in conn.execute(WHERE).fetchall()]
        # Today, 2 and 30 days ago have partitions of their own; 400 days ago and year 2999 wait
        # in the default partition.
        assert len(places) == 4, places
        assert "pgmetrics.route_metrics_default" in places
        assert conn.execute("SELECT count(*) FROM pgmetrics.route_metrics_default").fetchone() == (
            2,
        )
        assert conn.execute(
            "SELECT obj_description('pgmetrics.route_metrics'::regclass, 'pg_class') LIKE "
            "'Hourly detail of route metrics%%', "
            "has_table_privilege('pgmetrics_reader', 'pgmetrics.route_metrics_by_hour', 'SELECT'), "
            "has_table_privilege('pgmetrics_reader', 'pgmetrics.route_metrics', 'SELECT'), "
            "(SELECT relrowsecurity FROM pg_class "
            " WHERE oid = 'pgmetrics.route_metrics'::regclass)"
        ).fetchone() == (True, True, False, True)
        # The pending event folds into its partition, and a first retention run expires what
        # the default partition held beyond the days kept.
        conn.execute("SELECT pgmetrics.fold_events()")
        result = conn.execute("SELECT pgmetrics.run_retention()").fetchone()
        assert result is not None
        assert result[0]["route_hours_expired"] == 1  # type: ignore[index]
        assert result[0]["operation_hours_expired"] == 1  # type: ignore[index]
    after = _state(empty_db)

    sqitch("revert", empty_db.dsn, "-y", "--to", "@v0.2.0")
    assert _state(empty_db) == after, "the revert keeps every row too"
    with empty_db.connect() as conn:
        assert conn.execute(KIND).fetchall() == [("r",), ("r",)]
        assert conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'pgmetrics'::regnamespace "
            "AND relname ~ '_metrics_(p[0-9]{8}|default)$'"
        ).fetchone() == (0,)

    deploy(empty_db.dsn)
    assert _state(empty_db) == after, "and so does the deploy that follows"
