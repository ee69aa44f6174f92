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


@pytest.mark.slow
def test_mypy_strict() -> None:
    _run(sys.executable, "-m", "mypy", "--strict", "pgmetrics", "devtools")


@pytest.mark.slow
def test_sqlfluff() -> None:
    _run(str(BIN / "sqlfluff"), "lint", "--processes", "2", "sql")


def test_pgspot() -> None:
    # One process for every script: pgspot checks each file on its own (without --append) and
    # names it in its report, and one start of it costs as much as checking ten files.
    scripts = sorted((ROOT / "sql" / "deploy").glob("*.sql"))
    assert scripts
    _run(str(BIN / "pgspot"), *(str(path.relative_to(ROOT)) for path in scripts))
