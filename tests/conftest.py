"""One throwaway cluster per test process (each pytest-xdist worker starts its own); every test
gets its own database cloned from a template into which sqitch deployed the schema once."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy
from tests.fuzzing import FUZZ_ACCEPTED, FUZZ_INPUTS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "pgmetrics_template"
# The database pg_cron runs jobs in (cron.database_name): the one place CREATE EXTENSION pg_cron
# works, so the pgTAP files of the scheduling functions run there.
CRON_DATABASE = "pgmetrics_cron"


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
    with LocalCluster(durable=False, cron_database=CRON_DATABASE) as local:
        yield local


def _template_key(cluster: LocalCluster) -> str:
    """What the deployed template is made of: the plan and its scripts, the way pgmetrics runs
    sqitch, and the versions of PostgreSQL and pgTAP."""
    digest = hashlib.sha256()
    sources = [ROOT / "sqitch.plan", ROOT / "sqitch.conf", ROOT / "pgmetrics" / "deploy.py"]
    for path in sorted([*sources, *(ROOT / "sql").rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    with _admin(cluster) as conn:
        row = conn.execute(
            "SELECT version(), default_version FROM pg_available_extensions WHERE name = 'pgtap'"
        ).fetchone()
    digest.update(repr(row).encode())
    return digest.hexdigest()[:20]


def _client(cluster: LocalCluster, program: str, *args: str) -> str:
    """Runs a PostgreSQL client program of the cluster's version against it; its output."""
    connection = ("-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres")
    proc = subprocess.run(
        [str(cluster.bindir / program), *connection, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"{program} failed: {proc.stderr}"
    return proc.stdout


def _deploy_template(cluster: LocalCluster, saved: Path) -> None:
    """Deploys the template with sqitch, then saves it (and the roles the plan created) so that
    the other processes of this run, and later runs, restore it instead of deploying again."""
    with _admin(cluster) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    deploy(cluster.dsn(TEMPLATE))
    with psycopg.connect(cluster.dsn(TEMPLATE), autocommit=True) as conn:
        # pgTAP is a test tool: it lives in the template, never in the sqitch plan.
        conn.execute("CREATE EXTENSION pgtap")
    roles = _client(cluster, "pg_dumpall", "--roles-only", "--no-role-passwords")
    # The bootstrap superuser exists in every cluster: only the roles the plan made are kept,
    # each created unless it exists (a cluster may hold more than one deployed database).
    kept = []
    for line in roles.splitlines():
        if line.startswith(("CREATE ROLE postgres;", "ALTER ROLE postgres ")):
            continue
        if line.startswith("CREATE ROLE "):
            role = line.removeprefix("CREATE ROLE ").removesuffix(";")
            kept.append(
                f"SELECT 'CREATE ROLE {role}' WHERE NOT EXISTS"
                f" (SELECT FROM pg_roles WHERE quote_ident(rolname) = '{role}') \\gexec"
            )
        elif line.startswith(("ALTER ROLE ", "GRANT ")):
            kept.append(line)
    partial = saved.with_suffix(".partial")
    partial.mkdir(parents=True, exist_ok=True)
    (partial / "roles.sql").write_text("\n".join(kept) + "\n", encoding="utf-8")
    _client(cluster, "pg_dump", "-Fc", "-f", str(partial / "template.dump"), TEMPLATE)
    partial.rename(saved)


def restore_deployed(cluster: LocalCluster, dbname: str, saved: Path) -> None:
    """Creates ``dbname`` in ``cluster`` as sqitch deploys it, from the saved template: the
    roles first (a new cluster lacks them), then the database."""
    _client(cluster, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(saved / "roles.sql"))
    with _admin(cluster) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    _client(
        cluster, "pg_restore", "--single-transaction", "-d", dbname, str(saved / "template.dump")
    )


@pytest.fixture(scope="session")
def saved_template(cluster: LocalCluster, pytestconfig: pytest.Config) -> Path:
    """The deployed template, saved. sqitch deploys it once per content of sql/ and the plan; a
    dump of it is kept in pytest's cache and restored by every other worker and run, because a
    deploy (two psql processes per change) takes 15 to 50 s and a restore 1 to 2 s. Modules
    with a cluster of their own restore it too (``restore_deployed``)."""
    cache = pytestconfig.cache
    store = (
        cache.mkdir("pgmetrics-template")
        if cache is not None
        else Path(tempfile.gettempdir()) / f"pgmetrics-template-{os.getuid()}"
    )
    store.mkdir(parents=True, exist_ok=True)
    saved = store / _template_key(cluster)
    with (store / "lock").open("w") as lock:
        # Workers starting together wait for the first one's deploy rather than deploying too.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if saved.is_dir():
            restore_deployed(cluster, TEMPLATE, saved)
        else:
            for stale in store.iterdir():
                if stale.is_dir():
                    shutil.rmtree(stale)
            _deploy_template(cluster, saved)
    return saved


@pytest.fixture(scope="session")
def template(saved_template: Path) -> str:
    return TEMPLATE


@pytest.fixture(scope="session")
def cron_db(cluster: LocalCluster, template: str) -> Database:
    """The cluster's pg_cron database, deployed, with pg_cron installed. Shared by the tests of
    one process: a test using it leaves nothing behind (pgTAP files roll back)."""
    with _admin(cluster) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(CRON_DATABASE), sql.Identifier(template)
            )
        )
    database = Database(cluster, CRON_DATABASE)
    with database.connect() as conn:
        conn.execute("CREATE EXTENSION pg_cron")
    return database


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


@pytest.fixture
def missing_database(cluster: LocalCluster, template: str) -> Iterator[Database]:
    """A database name that does not exist until the test creates it (from ``template``, with
    ``create_missing``), for storages that start during an outage; dropped afterwards."""
    database = Database(cluster, f"test_{uuid.uuid4().hex[:16]}")
    yield database
    with _admin(cluster) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database.name,)
        ).fetchone()
    if exists:
        drop_database(database)


def create_missing(database: Database) -> None:
    """Ends the outage of a ``missing_database``: creates it, deployed."""
    with _admin(database.cluster) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(database.name), sql.Identifier(TEMPLATE)
            )
        )


@pytest.fixture(scope="session")
def pgtap_tally() -> PgTapTally:
    return _TALLY


_TALLY = PgTapTally()


# First: xdist's own hook turns the xdist_group marks into the group suffix of each node id.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keeps the tests that share a module-scoped fixture (a cluster of their own, mostly) on
    one xdist worker, so that it is set up once; ``--dist loadgroup`` spreads the rest."""
    for item in items:
        fixtureinfo = getattr(item, "_fixtureinfo", None)
        if fixtureinfo is None:
            continue
        if any(
            defs[-1].scope == "module" for defs in fixtureinfo.name2fixturedefs.values() if defs
        ):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


# The tallies of each xdist worker travel to the controller, which prints the totals.
_WORKER_KEY = "pgmetrics_tallies"


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_KEY] = json.dumps(
            {"pgtap": asdict(_TALLY), "inputs": FUZZ_INPUTS, "accepted": FUZZ_ACCEPTED}
        )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    sent = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if sent is None:
        return
    tallies = json.loads(sent)
    _TALLY.files += tallies["pgtap"]["files"]
    _TALLY.assertions += tallies["pgtap"]["assertions"]
    _TALLY.failed.extend(tallies["pgtap"]["failed"])
    for counts, into in ((tallies["inputs"], FUZZ_INPUTS), (tallies["accepted"], FUZZ_ACCEPTED)):
        for target, count in counts.items():
            into[target] = into.get(target, 0) + count


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
