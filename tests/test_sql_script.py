"""`pgmetrics sql`: the plan as one idempotent SQL script, run by psql -f as a plain-SQL tool
would, deploys what sqitch deploys."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.localcluster import LocalCluster
from pgmetrics.cli import main
from pgmetrics.deploy import DeployError, deploy, project_dir
from pgmetrics.plan import PlanError, read_plan
from pgmetrics.sqlscript import render, script_body
from tests.conftest import Database, PgTapTally, create_database, drop_database
from tests.test_pgtap import FILES, PGTAP_DIR, needs_cron, run_pgtap

PLAN = read_plan(project_dir())
DEPLOYED = re.compile(r"pgmetrics: deployed (\S+)")


def psql(db: Database, *files: Path) -> subprocess.CompletedProcess[str]:
    """psql -f as a user runs the script: no psqlrc, stop at the first error."""
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.dsn]
    for path in files:
        command += ["-f", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def applied(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode == 0, proc.stderr
    return DEPLOYED.findall(proc.stderr)


def schema(db: Database) -> str:
    """pg_dump of schema pgmetrics, definitions only, without the lines that differ per run."""
    dump = subprocess.run(
        ["pg_dump", "--schema-only", "--schema", "pgmetrics", "-d", db.dsn],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return "\n".join(
        line
        for line in dump.splitlines()
        if line.strip() and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    )


def registry(db: Database) -> list[tuple[object, ...]]:
    with db.connect() as conn:
        return conn.execute(
            "SELECT change_id, change, script_hash, deployed_at "
            "FROM pgmetrics_registry.changes ORDER BY deployed_at"
        ).fetchall()


@dataclass
class ScriptDeployed:
    database: Database
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    after_first: list[tuple[object, ...]]
    after_second: list[tuple[object, ...]]


@pytest.fixture(scope="module")
def script_deployed(
    cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScriptDeployed]:
    """A database the whole script deployed, then ran again on; a template for the tests."""
    script = tmp_path_factory.mktemp("sql") / "pgmetrics.sql"
    script.write_text(render(PLAN.steps), encoding="utf-8")
    database = create_database(cluster)
    try:
        first = psql(database, script)
        after_first = registry(database) if first.returncode == 0 else []
        second = psql(database, script)
        after_second = registry(database) if second.returncode == 0 else []
        yield ScriptDeployed(database, first, second, after_first, after_second)
    finally:
        drop_database(database)


@pytest.fixture
def script_db(script_deployed: ScriptDeployed) -> Iterator[Database]:
    """A fresh copy of the script-deployed database."""
    assert script_deployed.first.returncode == 0, script_deployed.first.stderr
    database = create_database(script_deployed.database.cluster, script_deployed.database.name)
    try:
        yield database
    finally:
        drop_database(database)


def test_change_ids_and_scripts_are_those_sqitch_records(db: Database) -> None:
    with db.connect() as conn:
        recorded = conn.execute(
            "SELECT change_id, change, script_hash FROM sqitch.changes "
            "WHERE project = 'pgmetrics' ORDER BY committed_at"
        ).fetchall()
    ours = [(s.change.change_id, s.change.name, s.script_hash) for s in PLAN.steps]
    assert ours == recorded


def test_the_script_applies_every_change_once_in_plan_order(
    script_deployed: ScriptDeployed,
) -> None:
    assert applied(script_deployed.first) == [step.change.name for step in PLAN.steps]
    assert [row[0] for row in script_deployed.after_first] == [
        step.change.change_id for step in PLAN.steps
    ]


def test_running_the_script_again_changes_nothing(script_deployed: ScriptDeployed) -> None:
    assert applied(script_deployed.second) == []
    assert script_deployed.after_second == script_deployed.after_first


def test_the_script_deploys_the_schema_sqitch_deploys(
    script_deployed: ScriptDeployed, db: Database
) -> None:
    assert script_deployed.first.returncode == 0, script_deployed.first.stderr
    assert schema(script_deployed.database) == schema(db)


def test_an_older_script_database_gets_only_the_missing_changes(
    empty_db: Database, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "--to", "@v0.1.0"]) == 0
    older = tmp_path / "v0.1.0.sql"
    older.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["sql"]) == 0
    newer = tmp_path / "latest.sql"
    newer.write_text(capsys.readouterr().out, encoding="utf-8")
    first = PLAN.tags["v0.1.0"] + 1

    assert applied(psql(empty_db, older)) == [s.change.name for s in PLAN.steps[:first]]
    with empty_db.connect() as conn:
        conn.execute("SELECT pgmetrics.record_route_metric('/kept', 'GET', true, 3)")
    assert applied(psql(empty_db, newer)) == [s.change.name for s in PLAN.steps[first:]]

    assert schema(empty_db) == schema(db)
    with empty_db.connect() as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        row = conn.execute(
            "SELECT total_requests FROM pgmetrics.route_metrics WHERE route = '/kept'"
        ).fetchone()
    assert row == (1,)


def test_one_file_per_change_deploys_the_same_schema(
    empty_db: Database, db: Database, tmp_path: Path
) -> None:
    assert main(["sql", "--split", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("V*.sql"))
    assert [f.name for f in files[:2]] == [
        "V001__role_pgmetrics_writer.sql",
        "V002__role_pgmetrics_reader.sql",
    ]
    assert len(files) == len(PLAN.steps)
    assert applied(psql(empty_db, *files)) == [s.change.name for s in PLAN.steps]
    assert applied(psql(empty_db, *files)) == []
    assert schema(empty_db) == schema(db)


def test_the_script_refuses_a_database_sqitch_deployed(db: Database, tmp_path: Path) -> None:
    script = tmp_path / "pgmetrics.sql"
    script.write_text(render(PLAN.steps), encoding="utf-8")
    proc = psql(db, script)
    assert proc.returncode != 0
    assert "sqitch deployed pgmetrics to this database" in proc.stderr
    with db.connect() as conn:
        row = conn.execute("SELECT to_regnamespace('pgmetrics_registry')").fetchone()
    assert row == (None,)


def test_sqitch_refuses_a_database_the_script_deployed(script_db: Database) -> None:
    with pytest.raises(DeployError, match="pgmetrics sql"):
        deploy(script_db.dsn)


def test_status_describes_a_database_the_script_deployed(
    script_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OBSERVABILITY_METRICS_DATABASE_URL", script_db.dsn)
    assert main(["status"]) == 0
    changes = registry(script_db)
    assert (
        f"deployed by the SQL script of `pgmetrics sql`: {len(changes)} changes, "
        f"the last {changes[-1][1]}"
    ) in capsys.readouterr().out


def test_the_script_is_plain_sql() -> None:
    lines = render(PLAN.steps).splitlines()
    # psql meta-commands, transaction control of its own, Flyway placeholders
    assert not [line for line in lines if line.startswith("\\")]
    assert not [line for line in lines if re.match(r"(BEGIN|COMMIT|ROLLBACK)\s*;", line, re.I)]
    assert not [line for line in lines if "${" in line]


def test_a_script_with_its_own_transaction_control_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "change.sql"
    path.write_text("BEGIN;\nCREATE TABLE t ();\nCOMMIT;\nBEGIN;\nDROP TABLE t;\nCOMMIT;\n")
    with pytest.raises(PlanError, match="one BEGIN"):
        script_body(path, "COMMIT")


def test_reworked_changes_deploy_the_file_of_their_latest_existing_tag(tmp_path: Path) -> None:
    (tmp_path / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    planner = "2026-01-01T00:00:00Z a <a@b>"
    (tmp_path / "sqitch.plan").write_text(
        "%syntax-version=1.0.0\n%project=p\n\n"
        f"foo {planner}\nbar {planner}\n@v1 {planner}\n"
        f"baz {planner}\n@v2 {planner}\n"
        f"foo [foo@v1] {planner}\n@v3 {planner}\nfoo [foo@v3] {planner}\n"
    )
    (tmp_path / "deploy").mkdir()
    for name in ("foo", "foo@v1", "foo@v3", "bar", "baz"):
        (tmp_path / "deploy" / f"{name}.sql").write_text("")
    steps = read_plan(tmp_path).steps
    # sqitch tries the tags between the change and its rework latest first: v2 has no file.
    assert [s.deploy.name for s in steps] == [
        "foo@v1.sql",
        "bar.sql",
        "baz.sql",
        "foo@v3.sql",
        "foo.sql",
    ]


@pytest.fixture
def pgtap_script_db(script_db: Database) -> Database:
    with script_db.connect() as conn:
        conn.execute("CREATE EXTENSION pgtap")
    return script_db


# pg_cron installs only in the cluster's cron database, which the session deploys with sqitch.
SCRIPT_FILES = [path for path in FILES if not needs_cron(path)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", SCRIPT_FILES, ids=[str(p.relative_to(PGTAP_DIR)) for p in SCRIPT_FILES]
)
def test_pgtap_on_a_script_deployed_database(
    path: Path, pgtap_script_db: Database, pgtap_tally: PgTapTally
) -> None:
    run_pgtap(path, pgtap_script_db, pgtap_tally)
