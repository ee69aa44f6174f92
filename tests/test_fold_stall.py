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
