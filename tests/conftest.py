"""One throwaway cluster per test run; every test gets its own database cloned from a template
into which sqitch deployed the schema once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy

TEMPLATE = "pgmetrics_template"


@dataclass
class Database:
    """A database of the test cluster, deployed and empty."""

    cluster: LocalCluster
    name: str

    @property
    def dsn(self) -> str:
        return self.cluster.dsn(self.name)

    def connect(self, **kwargs: object) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.dsn, autocommit=True, **kwargs)  # type: ignore[arg-type]


@dataclass
class PgTapTally:
    files: int = 0
    assertions: int = 0
    failed: list[str] = field(default_factory=list)


def _admin(cluster: LocalCluster) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(cluster.dsn(), autocommit=True)


def create_database(cluster: LocalCluster, template: str | None = None) -> Database:
    name = f"test_{uuid.uuid4().hex[:16]}"
    with _admin(cluster) as conn:
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    return Database(cluster, name)


def drop_database(db: Database) -> None:
    with _admin(db.cluster) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db.name)))


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(durable=False) as local:
        yield local


@pytest.fixture(scope="session")
def template(cluster: LocalCluster) -> str:
    with _admin(cluster) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    deploy(cluster.dsn(TEMPLATE))
    with psycopg.connect(cluster.dsn(TEMPLATE), autocommit=True) as conn:
        # pgTAP is a test tool: it lives in the template, never in the sqitch plan.
        conn.execute("CREATE EXTENSION pgtap")
    return TEMPLATE


@pytest.fixture
def db(cluster: LocalCluster, template: str) -> Iterator[Database]:
    """A fresh database with the schema deployed, dropped after the test."""
    database = create_database(cluster, template)
    try:
        yield database
    finally:
        drop_database(database)


@pytest.fixture
def empty_db(cluster: LocalCluster) -> Iterator[Database]:
    """A fresh database with nothing deployed."""
    database = create_database(cluster)
    try:
        yield database
    finally:
        drop_database(database)


@pytest.fixture(scope="session")
def pgtap_tally() -> PgTapTally:
    return _TALLY


_TALLY = PgTapTally()

# Inputs tried per fuzz target, reported at the end of the run.
FUZZ_INPUTS: dict[str, int] = {}
FUZZ_ACCEPTED: dict[str, int] = {}


def count_fuzz_input(target: str, *, accepted: bool | None = None) -> None:
    """Counts one input of ``target``; ``accepted`` counts one input's outcome."""
    if accepted is None:
        FUZZ_INPUTS[target] = FUZZ_INPUTS.get(target, 0) + 1
    elif accepted:
        FUZZ_ACCEPTED[target] = FUZZ_ACCEPTED.get(target, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TALLY.files:
        terminalreporter.write_line(
            f"pgTAP: {_TALLY.files} files, {_TALLY.assertions} assertions, "
            f"{len(_TALLY.failed)} files failed"
        )
    if FUZZ_INPUTS:
        terminalreporter.write_line(
            f"fuzz: {sum(FUZZ_INPUTS.values())} inputs: "
            + ", ".join(
                f"{target} {count} ({FUZZ_ACCEPTED.get(target, 0)} accepted)"
                for target, count in sorted(FUZZ_INPUTS.items())
            )
        )
