"""Runs every pgTAP file under tests/pgtap with pg_prove, each in a fresh database."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Database, PgTapTally

PGTAP_DIR = Path(__file__).parent / "pgtap"
FILES = sorted(PGTAP_DIR.rglob("*.sql"))
_OK = re.compile(r"^\s*ok \d+", re.MULTILINE)


def run_pgtap(path: Path, db: Database, pgtap_tally: PgTapTally) -> None:
    """Runs one pgTAP file with pg_prove in ``db``, which has the pgtap extension."""
    proc = subprocess.run(
        [
            "pg_prove",
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
        pgtap_tally.failed.append(path.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PGTAP_DIR)) for p in FILES])
def test_pgtap(path: Path, db: Database, pgtap_tally: PgTapTally) -> None:
    run_pgtap(path, db, pgtap_tally)
