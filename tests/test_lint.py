"""Lint runs with the tests: ruff, mypy --strict, sqlfluff on sql/, pgspot on deploy scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> None:
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(command)}\n{proc.stdout}\n{proc.stderr}"


def test_ruff_check() -> None:
    _run(str(BIN / "ruff"), "check", ".")


def test_ruff_format() -> None:
    _run(str(BIN / "ruff"), "format", "--check", ".")


def test_mypy_strict() -> None:
    _run(sys.executable, "-m", "mypy", "--strict", "pgmetrics", "devtools")


def test_sqlfluff() -> None:
    _run(str(BIN / "sqlfluff"), "lint", "--processes", "2", "sql")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "sql" / "deploy").glob("*.sql")), ids=lambda p: p.name
)
def test_pgspot(path: Path) -> None:
    _run(str(BIN / "pgspot"), str(path))
