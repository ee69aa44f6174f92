"""A storage's life around its deliveries: construction, the first record, the fold a role may
not run, close, and the end of the processes that multiprocessing forks."""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg import sql

from pgmetrics import DatabaseMetricsStorage, MemoryMetricsStorage, shutdown
from pgmetrics.spool import Spool
from tests.conftest import Database
from tests.real_servers import free_port
from tests.stored import route_totals, run_script

AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def _unreachable() -> str:
    return f"host=127.0.0.1 port={free_port()} user=postgres dbname=nothing"


_MULTIPROCESSING = """
    import multiprocessing, sys
    from datetime import UTC, datetime
    from pgmetrics import DatabaseMetricsStorage

    AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    storage = DatabaseMetricsStorage(sys.argv[1], batch_interval=3600)

    def record(worker):
        for i in range(100):
            storage.record_route_metric(f"/child/{worker}", "GET", i % 4 != 0, 1.0, AT)

    def record_one(i):
        storage.record_route_metric(f"/task/{i % 4}", "GET", i % 4 != 0, 1.0, AT)

    if __name__ == "__main__":
        context = multiprocessing.get_context("fork")
        if sys.argv[2] == "process":
            children = [context.Process(target=record, args=(n,)) for n in range(4)]
            for child in children:
                child.start()
            for child in children:
                child.join()
                assert child.exitcode == 0
        else:
            pool = context.Pool(2)
            pool.map(record_one, range(400), chunksize=10)
            pool.close()
            pool.join()
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["process", "pool"])
def test_children_forked_by_multiprocessing_deliver_every_event_once(
    db: Database, tmp_path: Path, kind: str
) -> None:
    # They end with os._exit, which runs no atexit hook: multiprocessing's finalizers deliver.
    run_script(tmp_path, f"multiprocessing_{kind}", _MULTIPROCESSING, db.dsn, kind)
    totals = route_totals(db.dsn)
    assert sum(total for total, _, _ in totals.values()) == 400
    assert sum(failed for _, failed, _ in totals.values()) == 100
    assert sum(duration for _, _, duration in totals.values()) == 400.0


_TERMINATED_POOLS = """
    import multiprocessing, sys
    from datetime import UTC, datetime
    from pgmetrics import DatabaseMetricsStorage

    AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    storage = DatabaseMetricsStorage(sys.argv[1], batch_interval=3600)

    def record_one(task):
        run, i = task
        # A key per event: a worker's last collect, at its exit, takes that much longer.
        storage.record_route_metric(f"/run/{run}/{i}", "GET", i % 4 != 0, 1.0, AT)

    if __name__ == "__main__":
        context = multiprocessing.get_context("fork")
        for run in range(int(sys.argv[2])):
            # Leaving the block terminates the pool: SIGTERM reaches the worker while it closes
            # its storage at exit after its sentinel, or while it is idle. One worker: of two,
            # one may wait on the task queue's lock that terminate() holds for good, where a
            # Python handler may never run (docs/RELIABILITY.md).
            with context.Pool(1) as pool:
                pool.map(record_one, [(run, i) for i in range(400)], chunksize=10)
"""


@pytest.mark.slow
def test_pools_terminated_by_their_with_block_deliver_every_event_once(
    db: Database, tmp_path: Path
) -> None:
    # Enough pools that in some of them the SIGTERM lands in the worker's last collect step.
    runs = 40
    run_script(tmp_path, "terminated_pools", _TERMINATED_POOLS, db.dsn, str(runs), timeout=60)
    per_run: dict[str, int] = {}
    for route, (total, _, _) in route_totals(db.dsn).items():
        run = route.split("/")[2]
        per_run[run] = per_run.get(run, 0) + total
    assert per_run == {str(run): 400 for run in range(runs)}


def test_close_stops_the_pools_without_a_warning(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600)
    with caplog.at_level(logging.WARNING):
        storage.record_route_metric("/close", "GET", True, 1.0, AT)
        assert storage.flush(10)
        storage.get_route_metrics()
        storage.close()
    assert "couldn't stop" not in caplog.text
    assert route_totals(db.dsn) == {"/close": (1, 0, 1.0)}


def test_storages_are_context_managers(db: Database) -> None:
    with DatabaseMetricsStorage(db.dsn, batch_interval=3600) as storage:
        storage.record_route_metric("/with", "GET", True, 2.0, AT)
    assert route_totals(db.dsn) == {"/with": (1, 0, 2.0)}
    with MemoryMetricsStorage() as memory:
        memory.record_route_metric("/with", "GET", True, 2.0, AT)
    assert memory.get_route_metrics()[0].total_requests == 1


@pytest.mark.parametrize(
    "name",
    ["batch_interval", "shutdown_timeout", "fold_interval", "retry_initial", "retry_max"],
)
@pytest.mark.parametrize("value", [math.inf, math.nan, "abc", -1.0])
def test_a_bad_number_of_seconds_is_refused_at_construction(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        DatabaseMetricsStorage(_unreachable(), **{name: value})  # type: ignore[arg-type]


def test_the_first_record_leaves_the_spool_to_the_flusher_thread(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    first = DatabaseMetricsStorage(
        _unreachable(), batch_interval=3600, spool_dir=spool, connect_timeout=0.5
    )
    for i in range(200):
        first.record_route_metric(f"/spooled/{i}", "GET", True, 1.0, AT)
    first.close(timeout=0.3)
    assert list(spool.glob("*.json"))

    claim = Spool.claim
    claimed_in: list[str] = []
    started, go_on = threading.Event(), threading.Event()

    def held_claim(self: Spool) -> object:
        claimed_in.append(threading.current_thread().name)
        started.set()
        if threading.current_thread() is not threading.main_thread():
            go_on.wait(30)  # the claim is under way until the test lets it go on
        return claim(self)

    monkeypatch.setattr(Spool, "claim", held_claim)
    second = DatabaseMetricsStorage(db.dsn, batch_interval=3600, spool_dir=spool)
    try:
        second.record_route_metric("/first", "GET", True, 1.0, AT)
        # The record returned; the claim runs (or waits) in the flusher thread.
        assert started.wait(30)
        assert claimed_in == ["pgmetrics-flusher"]
        go_on.set()
        assert second.flush(10)
    finally:
        go_on.set()
        second.close()
    totals = route_totals(db.dsn)
    assert totals["/first"] == (1, 0, 1.0)
    assert sum(total for total, _, _ in totals.values()) == 201
    assert list(spool.glob("*.json")) == []


@pytest.fixture
def writer_without_fold(db: Database) -> Iterator[str]:
    """A login role of pgmetrics_writer, in a database where that role may not run fold_events."""
    role = f"app_{uuid.uuid4().hex[:12]}"
    with db.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT pgmetrics_writer TO {}").format(sql.Identifier(role)))
        conn.execute("REVOKE EXECUTE ON FUNCTION pgmetrics.fold_events(boolean) FROM PUBLIC")
        conn.execute(
            "REVOKE EXECUTE ON FUNCTION pgmetrics.fold_events(boolean) FROM pgmetrics_writer"
        )
    try:
        yield db.cluster.dsn(db.name, user=role)
    finally:
        with db.connect() as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_role_that_may_not_fold_stops_asking_and_still_delivers(
    db: Database, writer_without_fold: str, caplog: pytest.LogCaptureFixture
) -> None:
    storage = DatabaseMetricsStorage(writer_without_fold, batch_interval=3600, fold_interval=0.001)
    try:
        with caplog.at_level(logging.INFO, logger="pgmetrics"):
            for i in range(3):
                storage.record_route_metric("/nofold", "GET", True, float(i), AT)
                assert storage.flush(10)
    finally:
        storage.close()
    fold_logs = [record for record in caplog.records if "fold_events" in record.getMessage()]
    assert len(fold_logs) == 1
    assert fold_logs[0].levelno == logging.INFO
    assert "does not fold" in fold_logs[0].getMessage()
    assert storage.rejected_batches == 0
    assert route_totals(db.dsn) == {"/nofold": (3, 0, 3.0)}


def test_close_leaves_the_sigterm_targets_and_a_record_after_it_comes_back(db: Database) -> None:
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600)
    storage.start()
    assert storage in shutdown._targets
    storage.close()
    assert storage not in shutdown._targets
    storage.record_route_metric("/after", "GET", True, 1.0, AT)
    assert storage in shutdown._targets
    storage.close()
    assert route_totals(db.dsn) == {"/after": (1, 0, 1.0)}


_EXIT = """
    import logging, sys
    from datetime import UTC, datetime
    from pgmetrics import DatabaseMetricsStorage

    logging.basicConfig(stream=sys.stdout, level=logging.WARNING)
    storage = DatabaseMetricsStorage(sys.argv[1], batch_interval=3600)
    storage.record_route_metric("/exit", "GET", True, 1.0, datetime(2026, 3, 2, 10, tzinfo=UTC))
    storage.get_route_metrics()
    # Interpreter exit closes the storage and its pools.
"""


def test_interpreter_exit_stops_the_pools_without_a_warning(db: Database, tmp_path: Path) -> None:
    output = run_script(tmp_path, "exit", _EXIT, db.dsn)
    assert "couldn't stop" not in output
    assert route_totals(db.dsn) == {"/exit": (1, 0, 1.0)}
