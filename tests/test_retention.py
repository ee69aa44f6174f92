"""Retention beyond one session: the lock row, and pg_cron itself firing the job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devtools.localcluster import LocalCluster
from tests.conftest import Database, restore_deployed

# The advisory lock keys of release v0.1.0's fold and retention.
OLD_LOCK_KEYS = (4622547330170361171, 7031925391520374017)


def test_a_second_concurrent_run_returns_at_once(db: Database) -> None:
    with db.connect() as holder, db.connect() as other:
        with holder.transaction():
            holder.execute("SELECT pgmetrics.run_retention()")  # holds the lock to its commit
            started = time.monotonic()
            row = other.execute("SELECT pgmetrics.run_retention()").fetchone()
            assert time.monotonic() - started < 5
        assert row is not None
        assert row[0] == {"skipped": "another run_retention holds the lock"}
        status = other.execute("SELECT pgmetrics.report_status()").fetchone()
        assert status is not None
        assert status[0]["last_retention_run"]["result"] == row[0], "the skipped run is reported"
        row = other.execute("SELECT pgmetrics.run_retention() ? 'detail_cutoff'").fetchone()
        assert row == (True,)


@pytest.fixture
def any_login(db: Database) -> Iterator[str]:
    """A login role of no pgmetrics group."""
    with db.connect() as conn:
        conn.execute("CREATE ROLE pgmetrics_test_squatter LOGIN")
    try:
        yield "pgmetrics_test_squatter"
    finally:
        with db.connect() as conn:
            conn.execute("DROP ROLE pgmetrics_test_squatter")


def test_a_login_holding_advisory_locks_stalls_neither_fold_nor_retention(
    db: Database, any_login: str
) -> None:
    with psycopg.connect(db.cluster.dsn(db.name, user=any_login), autocommit=True) as squatter:
        for key in OLD_LOCK_KEYS:
            squatter.execute("SELECT pg_advisory_lock(%s)", (key,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            squatter.execute("SELECT 1 FROM pgmetrics.locks FOR UPDATE")
        with db.connect() as owner:
            owner.execute("SET lock_timeout = '5s'")
            owner.execute("SELECT pgmetrics.record_route_metric('/squat', 'GET', true, 1)")
            folded = owner.execute("SELECT pgmetrics.fold_events(wait => false)").fetchone()
            assert folded is not None
            assert folded[0]["route_events_folded"] == 1
            ran = owner.execute("SELECT pgmetrics.run_retention()").fetchone()
            assert ran is not None
            assert "skipped" not in ran[0]


def test_scheduling_without_pg_cron_explains(db: Database) -> None:
    with db.connect() as conn:
        for call in (
            "SELECT pgmetrics.schedule_retention()",
            "SELECT pgmetrics.unschedule_retention()",
            "SELECT pgmetrics.schedule_fold()",
            "SELECT pgmetrics.unschedule_fold()",
        ):
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as caught:
                conn.execute(call)
            assert "pg_cron is not installed" in str(caught.value)
            assert caught.value.diag.message_hint is not None
            assert "pgmetrics." in caught.value.diag.message_hint or "scheduler" in (
                caught.value.diag.message_hint
            )


@pytest.fixture(scope="module")
def cron_cluster(saved_template: Path) -> Iterator[LocalCluster]:
    """A cluster whose pg_cron runs jobs in the database pgmetrics is deployed to."""
    with LocalCluster(durable=False, cron_database="metrics") as cluster:
        restore_deployed(cluster, "metrics", saved_template)
        with psycopg.connect(cluster.dsn("metrics"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_cron")
        yield cluster


def test_scheduling_is_idempotent(cron_db: Database) -> None:
    # The session's pg_cron database: each test unschedules what it scheduled.
    with cron_db.connect() as conn:
        first = conn.execute("SELECT pgmetrics.schedule_retention('5 4 * * *')").fetchone()
        second = conn.execute("SELECT pgmetrics.schedule_retention('5 4 * * *')").fetchone()
        assert first == second
        jobs = conn.execute(
            "SELECT schedule, command FROM cron.job WHERE jobname = 'pgmetrics_retention'"
        ).fetchall()
        assert jobs == [("5 4 * * *", "SELECT pgmetrics.run_retention()")]
        assert conn.execute("SELECT pgmetrics.unschedule_retention()").fetchone() == (True,)
        assert conn.execute("SELECT pgmetrics.unschedule_retention()").fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM cron.job").fetchone() == (0,)


def test_fold_scheduling_is_idempotent(cron_db: Database) -> None:
    # The session's pg_cron database: each test unschedules what it scheduled.
    with cron_db.connect() as conn:
        first = conn.execute("SELECT pgmetrics.schedule_fold()").fetchone()
        second = conn.execute("SELECT pgmetrics.schedule_fold()").fetchone()
        assert first == second
        jobs = conn.execute(
            "SELECT schedule, command FROM cron.job WHERE jobname = 'pgmetrics_fold'"
        ).fetchall()
        assert jobs == [("* * * * *", "SELECT pgmetrics.fold_events()")]
        assert conn.execute("SELECT pgmetrics.unschedule_fold()").fetchone() == (True,)
        assert conn.execute("SELECT pgmetrics.unschedule_fold()").fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM cron.job").fetchone() == (0,)


@pytest.mark.slow
def test_pg_cron_fires_the_job(cron_cluster: LocalCluster) -> None:
    with psycopg.connect(cron_cluster.dsn("metrics"), autocommit=True) as conn:
        conn.execute(
            "SELECT pgmetrics.record_route_metric("
            "'/old', 'GET', true, 1, now() - interval '200 days')"
        )
        # An hour that is over, so that the run rolls it up whichever hour it runs in.
        conn.execute(
            "SELECT pgmetrics.record_route_metric("
            "'/new', 'GET', true, 1, now() - interval '3 hours')"
        )
        conn.execute("SELECT pgmetrics.schedule_retention('* * * * *')")
        try:
            deadline = time.monotonic() + 90
            status = None
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT status, return_message FROM cron.job_run_details "
                    "ORDER BY start_time DESC NULLS LAST LIMIT 1"
                ).fetchone()
                if row is not None and row[0] in ("succeeded", "failed"):
                    status = row
                    break
                time.sleep(1)
        finally:
            conn.execute("SELECT pgmetrics.unschedule_retention()")
        assert status is not None, "pg_cron did not run the job within 90 s"
        assert status[0] == "succeeded", status
        routes = conn.execute("SELECT route FROM pgmetrics.route_metrics ORDER BY 1").fetchall()
        assert routes == [("/new",)]
        daily = conn.execute(
            "SELECT count(*) FROM pgmetrics.route_metrics_rollup WHERE grain = 'day'"
        ).fetchone()
        assert daily == (2,)
        runs = conn.execute("SELECT count(*) FROM pgmetrics.retention_runs").fetchone()
        assert runs == (1,)


@pytest.mark.slow
def test_a_hot_standby_does_nothing(cluster: LocalCluster, db: Database) -> None:
    with db.connect() as conn:
        conn.execute(
            "SELECT pgmetrics.record_route_metric("
            "'/old', 'GET', true, 1, now() - interval '200 days')"
        )
        conn.execute("SELECT pgmetrics.fold_events()")
    with cluster.create_standby() as standby:
        standby.wait_ready()
        with psycopg.connect(standby.dsn(db.name), autocommit=True) as conn:
            deadline = time.monotonic() + 30
            while conn.execute("SELECT count(*) FROM pgmetrics.route_metrics").fetchone() != (1,):
                assert time.monotonic() < deadline, "the standby did not replay the row"
                time.sleep(0.2)
            row = conn.execute("SELECT pgmetrics.run_retention()").fetchone()
            assert row == ({"skipped": "hot standby: retention runs on the primary"},)
            assert conn.execute("SELECT count(*) FROM pgmetrics.route_metrics").fetchone() == (1,)
