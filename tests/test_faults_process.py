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

from pgmetrics import DatabaseMetricsStorage
from tests.conftest import Database
from tests.real_servers import free_port
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


_HOLDING = """
    import sys, time
    from datetime import UTC, datetime
    from pgmetrics import DatabaseMetricsStorage

    dsn, hold, spool = sys.argv[1], sys.argv[2], sys.argv[3] or None
    storage = DatabaseMetricsStorage(
        dsn, batch_interval=3600, shutdown_timeout=20, connect_timeout=1, spool_dir=spool
    )
    at = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    for i in range(500):
        storage.record_route_metric(f"/held/{i % 5}", "GET", i % 5 != 0, 1.0, at)
    if hold == "record":
        # Where a record is between taking the main thread's lock and releasing it.
        lock = storage._aggregator._local.buffer.lock
    else:
        # Where a read or a flush holds the storage's lock on what is pending.
        lock = storage._flusher._pending_lock
    lock.acquire()
    print("holding", flush=True)
    while True:
        time.sleep(0.01)
"""

_LOOP = """
    import sys
    from datetime import UTC, datetime
    from pgmetrics import DatabaseMetricsStorage

    storage = DatabaseMetricsStorage(sys.argv[1], batch_interval=3600, shutdown_timeout=20)
    at = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    for i in range(500):
        storage.record_route_metric(f"/held/{i % 5}", "GET", i % 5 != 0, 1.0, at)
    print("holding", flush=True)
    i = 0
    while True:  # the signal lands in a record, most likely while it holds its lock
        storage.record_route_metric("/loop", "GET", i % 2 == 0, float(i % 9), at)
        i += 1
"""


def _terminate_holding(tmp_path: Path, source: str, *args: str) -> int:
    return _terminate_when(tmp_path, source, "holding", *args)


def _terminate_when(tmp_path: Path, source: str, ready: str, *args: str) -> int:
    """Runs ``source``, SIGTERMs it once it prints ``ready``, and returns its exit status."""
    path = tmp_path / f"{ready}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, str(path), *args], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == ready
            time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            # Within the shutdown timeout (20 s): a drain that waited on the held lock would
            # give up after it, with nothing delivered.
            return proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _held_totals(dsn: str) -> tuple[int, int]:
    totals = route_totals(dsn)
    held = [value for route, value in totals.items() if route.startswith("/held/")]
    return sum(total for total, _, _ in held), sum(failed for _, failed, _ in held)


@pytest.mark.slow
@pytest.mark.parametrize("hold", ["record", "pending"])
def test_sigterm_while_the_main_thread_holds_a_lock_delivers_everything(
    db: Database, tmp_path: Path, hold: str
) -> None:
    assert _terminate_holding(tmp_path, _HOLDING, db.dsn, hold, "") == -signal.SIGTERM
    assert _held_totals(db.dsn) == (500, 100)


@pytest.mark.slow
def test_sigterm_while_the_main_thread_holds_a_lock_with_the_database_down_spools_everything(
    db: Database, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    unreachable = f"host=127.0.0.1 port={free_port()} user=postgres dbname=nothing"
    assert _terminate_holding(tmp_path, _HOLDING, unreachable, "record", str(spool)) == (
        -signal.SIGTERM
    )
    assert list(spool.glob("*.json"))
    with DatabaseMetricsStorage(db.dsn, batch_interval=3600, spool_dir=spool) as storage:
        assert storage.flush(10)
    assert _held_totals(db.dsn) == (500, 100)


@pytest.mark.slow
def test_sigterm_in_a_tight_loop_of_records_delivers_every_completed_one(
    db: Database, tmp_path: Path
) -> None:
    assert _terminate_holding(tmp_path, _LOOP, db.dsn) == -signal.SIGTERM
    assert _held_totals(db.dsn) == (500, 100)
    # The record the signal interrupted is left out or counted whole, never refused.
    assert route_totals(db.dsn)["/loop"][0] > 0


_COLLECTING = """
    import signal, sys, time
    from datetime import UTC, datetime
    from pgmetrics import DatabaseMetricsStorage, aggregator

    dsn, where, mode = sys.argv[1:4]
    if mode == "handler":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    storage = DatabaseMetricsStorage(dsn, batch_interval=3600, shutdown_timeout=20)
    at = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    for i in range(500):
        storage.record_route_metric(f"/held/{i % 5}", "GET", i % 5 != 0, 1.0, at)

    def slowly(step):
        # The signal lands here, in the main thread's flush, with the cells taken out of the
        # threads' maps and not yet in a pending batch.
        def slow(*args):
            if not slowed:
                slowed.append(True)
                print("collecting", flush=True)
                time.sleep(2.0)
            return step(*args)
        return slow

    slowed = []
    if where == "take":
        aggregator.merge_cells = slowly(aggregator.merge_cells)
    else:
        storage._flusher._place = slowly(storage._flusher._place)
    storage.flush(30)
    print("flushed", flush=True)
    time.sleep(120)
"""


def _terminate_collecting(tmp_path: Path, *args: str) -> int:
    return _terminate_when(tmp_path, _COLLECTING, "collecting", *args)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["take", "place"])
@pytest.mark.parametrize(("mode", "status"), [("default", -signal.SIGTERM), ("handler", 0)])
def test_sigterm_while_a_flush_moves_the_cells_into_a_batch_delivers_everything(
    db: Database, tmp_path: Path, where: str, mode: str, status: int
) -> None:
    assert _terminate_collecting(tmp_path, db.dsn, where, mode) == status
    assert _held_totals(db.dsn) == (500, 100)
