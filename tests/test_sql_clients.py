"""Clients in other languages record with one SQL call and nothing else."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.conftest import Database

APP_ROLE = "pgmetrics_client_app"


@pytest.fixture
def app_role(db: Database) -> Iterator[str]:
    """A login role that is a member of pgmetrics_writer and nothing else."""
    with db.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP_ROLE)))
        conn.execute(sql.SQL("GRANT pgmetrics_writer TO {}").format(sql.Identifier(APP_ROLE)))
    try:
        yield APP_ROLE
    finally:
        with db.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(APP_ROLE)))


def _stored(db: Database) -> list[tuple[object, ...]]:
    """What a summary reads right after the call: the call is a pending event until a fold."""
    with db.connect() as conn:
        return conn.execute(
            "SELECT route, method, total_requests, successful, total_duration_ms, "
            "bucket_start = date_trunc('hour', now(), 'UTC') FROM pgmetrics.route_metrics_summary("
            "now() - interval '1 day', now() + interval '1 day')"
        ).fetchall()


def test_psql_records_one_request(db: Database, app_role: str) -> None:
    subprocess.run(
        [
            "psql",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(db.cluster.port),
            "-U",
            app_role,
            "-d",
            db.name,
            "-c",
            "SELECT pgmetrics.record_route_metric('/users/{id}', 'get', true, 12.5)",
        ],
        check=True,
        capture_output=True,
    )
    assert _stored(db) == [("/users/{id}", "GET", 1, 1, 12.5, True)]


def test_perl_dbi_records_with_bare_name(db: Database, app_role: str) -> None:
    script = """
        use DBI;
        my $dbh = DBI->connect("dbi:Pg:dbname=$ARGV[0];host=127.0.0.1;port=$ARGV[1]", $ARGV[2], "",
                               { RaiseError => 1, AutoCommit => 1 });
        $dbh->do("SET search_path = pgmetrics");
        $dbh->do("SELECT record_route_metric(?, ?, ?, ?)", undef, "/users/{id}", "GET", 1, 12.5);
        $dbh->disconnect;
    """
    subprocess.run(
        ["perl", "-e", script, db.name, str(db.cluster.port), app_role],
        check=True,
        capture_output=True,
    )
    assert _stored(db) == [("/users/{id}", "GET", 1, 1, 12.5, True)]


def test_application_role_cannot_read_or_change_tables(db: Database, app_role: str) -> None:
    with psycopg.connect(db.cluster.dsn(db.name, user=app_role), autocommit=True) as conn:
        conn.execute("SELECT pgmetrics.record_operation_metric('send_email', true, 5)")
        for statement in (
            "SELECT * FROM pgmetrics.operation_metrics",
            "UPDATE pgmetrics.operation_metrics SET failed = 0",
            "DELETE FROM pgmetrics.route_metrics",
            "INSERT INTO pgmetrics.route_metrics (route) VALUES ('/x')",
            "SELECT * FROM pgmetrics.operation_events",
            "DELETE FROM pgmetrics.route_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
