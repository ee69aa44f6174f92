"""More faults: statement timeouts during flushes, and SIGTERM of an application process."""

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
from tests.stored import operation_totals, route_totals

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)

SLOW_WHILE_FLAGGED = """
CREATE TABLE public.slow (flag boolean);
CREATE FUNCTION public.sleep_while_slow() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.slow) THEN
        PERFORM pg_catalog.pg_sleep(2);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sleep_while_slow BEFORE INSERT OR UPDATE ON pgmetrics.route_cells
FOR EACH STATEMENT EXECUTE FUNCTION public.sleep_while_slow();
INSERT INTO public.slow VALUES (true);
"""


@pytest.mark.slow
def test_statement_timeouts_during_flushes_lose_and_double_nothing(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(SLOW_WHILE_FLAGGED)
    # The storage sets statement_timeout on its connections (over the database's setting).
    storage = DatabaseMetricsStorage(
        db.dsn,
        batch_interval=3600,
        retry_initial=0.05,
        retry_max=0.2,
        connect_timeout=5,
        statement_timeout=0.3,
    )
    try:
        for i in range(200):
            storage.record_route_metric(f"/slow/{i % 20}", "GET", i % 5 != 0, 2.0, T0)
            storage.record_operation_metric("job", True, 1.0, T0)
        # Every attempt hits the timeout: nothing is delivered, nothing is dropped.
        assert not storage.flush(1.5)
        assert storage.pending_batches >= 1
        for i in range(100):
            storage.record_route_metric(f"/slow/{i % 20}", "POST", True, 3.0, T0)
        assert not storage.flush(None)
        assert route_totals(db.dsn) == {}
        assert storage.rejected_batches == 0
        assert storage.dropped_cells == 0
        with db.connect() as conn:
            conn.execute("DELETE FROM public.slow")
        assert storage.flush(30)
    finally:
        storage.close(10)
    expected = {f"/slow/{k}": (15, 10 if k % 5 == 0 else 0, 10 * 2.0 + 5 * 3.0) for k in range(20)}
    assert route_totals(db.dsn) == expected
    assert operation_totals(db.dsn) == {"job": (200, 0, 200.0)}


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
