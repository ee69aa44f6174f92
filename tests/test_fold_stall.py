"""No writer can stall the fold, retention or add_report_zone: the fold's lock is held to the end
of the caller's transaction, so only the schema owner folds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import sql

from tests.conftest import Database


@pytest.fixture
def writer_login(db: Database) -> Iterator[str]:
    """A login role that is a member of pgmetrics_writer."""
    name = f"pgmetrics_test_writer_{uuid.uuid4().hex[:8]}"
    with db.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN IN ROLE pgmetrics_writer").format(sql.Identifier(name))
        )
    try:
        yield name
    finally:
        with db.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _call(conn: psycopg.Connection[Any], query: LiteralString) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def test_a_writer_in_an_open_transaction_stalls_no_fold(db: Database, writer_login: str) -> None:
    with psycopg.connect(db.cluster.dsn(db.name, user=writer_login)) as writer:
        # Everything a writer may do, in a transaction it keeps open.
        writer.execute("SELECT pgmetrics.record_route_metric('/w', 'GET', true, 1)")
        writer.execute("SELECT pgmetrics.record_operation_metric('w', true, 1)")
        for call in (
            "SELECT pgmetrics.fold_events()",
            "SELECT pgmetrics.fold_events(wait => false)",
            "SELECT pgmetrics.fold_events(), pg_sleep(1e6)",
        ):
            writer.execute("SAVEPOINT attempt")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                writer.execute(call)
            writer.execute("ROLLBACK TO SAVEPOINT attempt")
        with db.connect() as owner:
            owner.execute("SET lock_timeout = '5s'")
            owner.execute("SELECT pgmetrics.record_route_metric('/o', 'GET', true, 1)")
            folded = _call(owner, "SELECT pgmetrics.fold_events()")
            assert folded["route_events_folded"] == 1, "the writer's uncommitted event waits"
            assert "skipped" not in _call(owner, "SELECT pgmetrics.fold_events(wait => false)")
            assert "skipped" not in _call(owner, "SELECT pgmetrics.run_retention()")
            owner.execute("SELECT pgmetrics.add_report_zone('Europe/Berlin')")
            owner.execute("SELECT pgmetrics.remove_report_zone('Europe/Berlin')")
        writer.commit()
    with db.connect() as owner:
        folded = _call(owner, "SELECT pgmetrics.fold_events()")
        assert folded["route_events_folded"] == 1, "the writer's event is folded once committed"


@pytest.fixture
def reader_login(db: Database) -> Iterator[str]:
    """A login role that is a member of pgmetrics_reader."""
    name = f"pgmetrics_test_reader_{uuid.uuid4().hex[:8]}"
    with db.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN IN ROLE pgmetrics_reader").format(sql.Identifier(name))
        )
    try:
        yield name
    finally:
        with db.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_a_reader_in_an_open_transaction_stalls_no_retention(
    db: Database, reader_login: str
) -> None:
    with db.connect() as owner:
        owner.execute("SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1)")
        owner.execute("SELECT pgmetrics.fold_events()")
    with psycopg.connect(db.cluster.dsn(db.name, user=reader_login)) as reader:
        # A dashboard's transaction left open after a read of the hourly tier.
        reader.execute("SELECT * FROM pgmetrics.route_metrics_by_hour").fetchall()
        reader.execute(
            "SELECT * FROM pgmetrics.route_metrics_summary(now() - interval '1 day', now())"
        )
        with db.connect() as owner:
            owner.execute("SET lock_timeout = '5s'")
            # A day without a partition: the fold leaves it in the default partition for now.
            owner.execute(
                "SELECT pgmetrics.record_route_metric('/r', 'GET', true, 1,"
                " now() - interval '30 days')"
            )
            folded = _call(owner, "SELECT pgmetrics.fold_events()")
            assert folded["route_events_folded"] == 1
            # Far ahead: every daily partition has expired.
            ran = _call(owner, "SELECT pgmetrics.run_retention(now() + interval '400 days')")
            assert "skipped" not in ran
            assert ran["route_hours_expired"] == 2
            folded = _call(owner, "SELECT pgmetrics.fold_events(wait => false)")
            assert "skipped" not in folded
        reader.rollback()
    with db.connect() as owner:
        ran = _call(owner, "SELECT pgmetrics.run_retention(now() + interval '400 days')")
        assert ran["detail_partitions_dropped"] > 0, "the partitions left go at the next run"
