"""The sqitch plan deploys, verifies, reverts completely and deploys again."""

from __future__ import annotations

import pytest

from pgmetrics.deploy import deploy, sqitch
from tests.conftest import Database


def _pgmetrics_objects(db: Database) -> int:
    with db.connect() as conn:
        row = conn.execute(
            """
            SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmetrics')
                 + (SELECT count(*) FROM pg_proc WHERE proname LIKE '%metric%'
                       AND pronamespace <> 'pg_catalog'::regnamespace)
            """
        ).fetchone()
    assert row is not None
    return int(str(row[0]))


@pytest.mark.slow
def test_deploy_verify_revert_deploy(db: Database) -> None:
    # The template every test clones is a sqitch deploy from empty (conftest), registry included.
    assert _pgmetrics_objects(db) > 0
    sqitch("verify", db.dsn)

    sqitch("revert", db.dsn, "-y")
    assert _pgmetrics_objects(db) == 0

    deploy(db.dsn)
    sqitch("verify", db.dsn)
    with db.connect() as conn:
        conn.execute("SELECT pgmetrics.record_route_metric('/after/redeploy', 'GET', true, 1)")
        conn.execute("SELECT pgmetrics.fold_events()")
        row = conn.execute("SELECT total_requests FROM pgmetrics.route_metrics").fetchone()
    assert row == (1,)


@pytest.mark.slow
def test_status_reports_up_to_date(db: Database) -> None:
    assert "Nothing to deploy (up-to-date)" in sqitch("status", db.dsn)
