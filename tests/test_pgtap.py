"""Runs every pgTAP file under tests/pgtap with pg_prove, each in a fresh database.

The comment lines a file starts with may hold two directives: ``-- requires: pg_cron`` runs it in
the cluster's pg_cron database instead, the only one where the extension can be installed (each
file rolls back, so it leaves nothing there); ``-- slow: <why>`` marks it slow."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Database, PgTapTally

PGTAP_DIR = Path(__file__).parent / "pgtap"
_OK = re.compile(r"^\s*ok \d+", re.MULTILINE)


FILES = sorted(PGTAP_DIR.rglob("*.sql"))


def _directives(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return list(itertools.takewhile(lambda line: line.startswith("--"), lines))


def needs_cron(path: Path) -> bool:
    return "-- requires: pg_cron" in _directives(path)


def _param(path: Path) -> object:
    slow = any(line.startswith("-- slow:") for line in _directives(path))
    return pytest.param(
        path, id=str(path.relative_to(PGTAP_DIR)), marks=[pytest.mark.slow] if slow else []
    )


@pytest.mark.parametrize("path", [_param(p) for p in FILES])
def test_pgtap(path: Path, request: pytest.FixtureRequest, pgtap_tally: PgTapTally) -> None:
    db: Database = request.getfixturevalue("cron_db" if needs_cron(path) else "db")
    run_pgtap(path, db, pgtap_tally)


def run_pgtap(path: Path, db: Database, pgtap_tally: PgTapTally) -> None:
    """Runs one pgTAP file with pg_prove in ``db``, which has the pgtap extension."""
    proc = subprocess.run(
        [
            "pg_prove",
            # The server's own psql: Debian's /usr/bin/psql is a Perl wrapper that picks one.
            "--psql-bin",
            str(db.cluster.bindir / "psql"),
            "--verbose",
            "--failures",
            "--host",
            "127.0.0.1",
            "--port",
            str(db.cluster.port),
            "--username",
            "postgres",
            "--dbname",
            db.name,
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    pgtap_tally.files += 1
    pgtap_tally.assertions += len(_OK.findall(proc.stdout))
    if proc.returncode != 0:
        pgtap_tally.failed.append(str(path.relative_to(PGTAP_DIR)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
