"""Totals as stored, for tests that compare them with what was recorded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg

Totals = dict[str, tuple[int, int, float]]


def route_totals(dsn: str) -> Totals:
    """route -> (total_requests, failed, total_duration_ms), summed over methods and hours, once
    the staged batches are folded into the hourly tier."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        rows = conn.execute(
            "SELECT route, sum(total_requests)::bigint, sum(failed)::bigint, "
            "sum(total_duration_ms) FROM pgmetrics.route_metrics GROUP BY route"
        ).fetchall()
    return {str(r[0]): (int(r[1]), int(r[2]), float(r[3])) for r in rows}


def operation_totals(dsn: str) -> Totals:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pgmetrics.fold_events()")
        rows = conn.execute(
            "SELECT operation, sum(total_executions)::bigint, sum(failed)::bigint, "
            "sum(total_duration_ms) FROM pgmetrics.operation_metrics GROUP BY operation"
        ).fetchall()
    return {str(r[0]): (int(r[1]), int(r[2]), float(r[3])) for r in rows}


def summary_function_exists(dsn: str, signature: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", (signature,)).fetchone()
    return bool(row and row[0])


ROUTE_SUMMARY = "pgmetrics.route_metrics_summary(timestamptz, timestamptz, text, text, text, text)"
OPERATION_SUMMARY = (
    "pgmetrics.operation_metrics_summary(timestamptz, timestamptz, text, text, text)"
)


def run_script(tmp_path: Path, name: str, source: str, *args: str, timeout: float = 120) -> str:
    """Runs ``source`` as a Python script in a new interpreter; returns its stdout."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout
