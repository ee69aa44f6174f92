"""Faults of the application process: SIGTERM while a storage holds what it recorded.

A file of its own because each test runs the application as a child interpreter and signals
it: what is checked is the process's exit status and what reached the database."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.stored import route_totals

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)

_APPLICATION = """
    import signal, sys, time
    from datetime import UTC, datetime
    from pgmetrics import DatabaseMetricsStorage

    if sys.argv[2] == "handler":
        # What docs/RELIABILITY.md recommends: SIGTERM ends the process normally.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    storage = DatabaseMetricsStorage(sys.argv[1], batch_interval=3600)
    at = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    for i in range(3000):
        storage.record_route_metric(f"/term/{i % 7}", "GET", i % 3 != 0, 1.0, at)
    print("recorded", flush=True)
    time.sleep(120)
"""


def _run_and_terminate(tmp_path: Path, dsn: str, mode: str) -> int:
    path = tmp_path / f"application_{mode}.py"
    path.write_text(textwrap.dedent(_APPLICATION), encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, str(path), dsn, mode], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "recorded"
            time.sleep(0.2)  # the main thread is asleep in time.sleep
            proc.send_signal(signal.SIGTERM)
            return proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_sigterm_with_a_handler_that_exits_delivers_everything(
    db: Database, tmp_path: Path
) -> None:
    assert _run_and_terminate(tmp_path, db.dsn, "handler") == 0
    totals = route_totals(db.dsn)
    assert sum(total for total, _, _ in totals.values()) == 3000
    assert sum(failed for _, failed, _ in totals.values()) == 1000


@pytest.mark.slow
def test_sigterm_with_the_default_action_delivers_and_still_ends_by_the_signal(
    db: Database, tmp_path: Path
) -> None:
    # pgmetrics' handler stands in front of the default action: it delivers what the process
    # holds, then raises the signal again with the default action, so the exit status stays
    # "terminated by SIGTERM" for the process manager.
    assert _run_and_terminate(tmp_path, db.dsn, "default") == -signal.SIGTERM
    totals = route_totals(db.dsn)
    assert sum(total for total, _, _ in totals.values()) == 3000
    assert sum(failed for _, failed, _ in totals.values()) == 1000


@pytest.mark.slow
def test_an_ignored_sigterm_stays_ignored(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "application_ignore.py"
    path.write_text(
        textwrap.dedent(_APPLICATION.replace('"handler"', '"ignore"')).replace(
            "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))",
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)",
        ),
        encoding="utf-8",
    )
    with subprocess.Popen(
        [sys.executable, str(path), db.dsn, "ignore"], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "recorded"
            proc.send_signal(signal.SIGTERM)
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
        finally:
            proc.kill()
            proc.wait()
    assert route_totals(db.dsn) == {}
