"""A network path that stops answering (a dropped NAT entry, a hung server): nothing pgmetrics does
waits past its timeouts, and what was recorded is delivered exactly once when the path returns.
The path runs through tests.proxy.BlackholeProxy, whose kernel keeps acknowledging: TCP
keepalives cannot notice, only pgmetrics' own deadlines end the waits."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pgmetrics import DatabaseMetricsStorage
from pgmetrics.config import load_settings
from tests.conftest import Database
from tests.proxy import BlackholeProxy, blackhole_proxy
from tests.stored import operation_totals, route_totals

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
# What a call may take beyond its own timeout on a busy machine: a bound on correctness (the call
# returns at all), not a measure of speed.
MARGIN = 2.0


@pytest.fixture
def proxy(db: Database) -> Iterator[BlackholeProxy]:
    with blackhole_proxy("127.0.0.1", db.cluster.port) as running:
        yield running


def _record(storage: DatabaseMetricsStorage, count: int, method: str = "GET") -> None:
    for i in range(count):
        storage.record_route_metric(f"/path/{i % 10}", method, i % 4 != 0, 2.0, T0)
        storage.record_operation_metric("job", True, 1.0, T0)


def _expected(*counts: int) -> dict[str, tuple[int, int, float]]:
    """route_totals after ``_record`` was called with each of ``counts``."""
    totals: dict[str, tuple[int, int, float]] = {}
    for count in counts:
        for i in range(count):
            total, failed, duration = totals.get(f"/path/{i % 10}", (0, 0, 0.0))
            totals[f"/path/{i % 10}"] = (total + 1, failed + (i % 4 == 0), duration + 2.0)
    return totals


def _timed(call: object, *args: object) -> tuple[object, float]:
    started = time.monotonic()
    result = call(*args)  # type: ignore[operator]
    return result, time.monotonic() - started


@pytest.mark.slow
def test_a_path_that_stops_mid_flush_blocks_nothing_and_loses_nothing(
    db: Database, proxy: BlackholeProxy
) -> None:
    storage = DatabaseMetricsStorage(
        proxy.dsn(db.dsn),
        batch_interval=3600,
        connect_timeout=1,
        read_timeout=2,
        statement_timeout=3,
        retry_initial=0.05,
        retry_max=0.2,
    )
    try:
        # A first read opens the read pool: later reads meet a connection gone silent.
        assert storage.get_route_metrics().source == "database"
        _record(storage, 300)
        # The ingest_batch call reaches the server, then nothing crosses the path any more.
        stopped = proxy.when_sent(b"ingest_batch", proxy.blackhole, hold=False)
        outcome: list[tuple[object, float]] = []
        flushing = threading.Thread(target=lambda: outcome.append(_timed(storage.flush, 4.0)))
        flushing.start()
        assert stopped.wait(10)

        _record(storage, 200, "POST")  # while the flush waits on the dead path
        assert flushing.is_alive()
        report, took = _timed(storage.get_route_metrics, None, None, None, "all")
        assert took < storage.read_timeout + MARGIN
        assert report.source == "memory"  # type: ignore[attr-defined]
        assert sum(row.total_requests for row in report) == 500  # type: ignore[attr-defined]

        flushing.join(4.0 + MARGIN + 5)
        assert not flushing.is_alive()
        ((delivered, took),) = outcome
        assert delivered is False
        assert took < 4.0 + MARGIN
        delivered, took = _timed(storage.flush, 1.0)
        assert delivered is False
        assert took < 1.0 + MARGIN
        assert route_totals(db.dsn) == {}

        proxy.restore()
        report = storage.get_route_metrics(bucket="all")
        assert report.source == "database"
        assert sum(row.total_requests for row in report) == 500
        assert storage.flush(timeout=30)
    finally:
        _, took = _timed(storage.close, 5.0)
    assert took < 5.0 + MARGIN
    assert route_totals(db.dsn) == _expected(300, 200)
    assert operation_totals(db.dsn) == {"job": (500, 0, 500.0)}


@pytest.mark.slow
def test_close_returns_within_its_timeout_on_a_dead_path(
    db: Database, proxy: BlackholeProxy, caplog: pytest.LogCaptureFixture
) -> None:
    storage = DatabaseMetricsStorage(
        proxy.dsn(db.dsn), batch_interval=0.05, connect_timeout=1, retry_initial=0.05
    )
    stopped = proxy.when_sent(b"ingest_batch", proxy.blackhole, hold=False)
    _record(storage, 100)
    assert stopped.wait(10)  # the flusher thread is sending over the dead path
    with caplog.at_level(logging.ERROR, logger="pgmetrics"):
        _, took = _timed(storage.close, 2.0)
    assert took < 2.0 + MARGIN
    assert "undelivered cells" in caplog.text


@pytest.mark.slow
def test_close_cuts_a_send_on_a_dropped_connection_and_delivers_over_a_new_one(
    db: Database, proxy: BlackholeProxy
) -> None:
    # The flusher thread's send would wait for its statement timeout (30 s by default); close()
    # ends it early and sends the batch again, under its id, over a connection that works.
    storage = DatabaseMetricsStorage(proxy.dsn(db.dsn), batch_interval=0.05, retry_initial=0.05)
    dropped = proxy.when_sent(b"ingest_batch", proxy.drop_open, hold=False)
    _record(storage, 100)
    assert dropped.wait(10)
    _, took = _timed(storage.close, 10.0)
    assert took < 10.0 + MARGIN
    assert route_totals(db.dsn) == _expected(100)
    assert operation_totals(db.dsn) == {"job": (100, 0, 100.0)}


def test_slow_reads_leave_delivery_free(db: Database, proxy: BlackholeProxy) -> None:
    # Reads have their own pool: two summaries that take long hold two read connections, and a
    # delivery still finds a connection of its own.
    storage = DatabaseMetricsStorage(
        proxy.dsn(db.dsn), batch_interval=3600, connect_timeout=3, read_timeout=30
    )
    release = threading.Event()
    waiting = threading.Semaphore(0)

    def hold_the_summary() -> None:
        waiting.release()
        release.wait(30)

    for _ in range(2):
        proxy.when_sent(b"route_metrics_summary", hold_the_summary, hold=True)
    reports: list[object] = []
    readers = [
        threading.Thread(target=lambda: reports.append(storage.get_route_metrics()))
        for _ in range(2)
    ]
    try:
        for reader in readers:
            reader.start()
        for _ in readers:
            assert waiting.acquire(timeout=10)
        _record(storage, 10)
        assert storage.flush()  # one attempt: it finds a connection at once
    finally:
        release.set()
        for reader in readers:
            reader.join(10)
        storage.close(5)
    assert len(reports) == 2
    assert operation_totals(db.dsn) == {"job": (10, 0, 10.0)}


def test_connections_carry_timeouts_and_keepalives(db: Database) -> None:
    storage = DatabaseMetricsStorage(
        db.dsn + " application_name=timeouts",
        connect_timeout=3,
        statement_timeout=12,
        read_timeout=7,
        tcp_user_timeout=20,
        keepalives_idle=40,
        keepalives_interval=6,
        keepalives_count=4,
    )
    try:
        params = conninfo_to_dict(storage.connection_string(storage.statement_timeout))
        assert {k: params[k] for k in ("connect_timeout", "keepalives", "tcp_user_timeout")} == {
            "connect_timeout": "3",
            "keepalives": "1",
            "tcp_user_timeout": "20000",
        }
        assert (params["keepalives_idle"], params["keepalives_interval"]) == ("40", "6")
        assert params["keepalives_count"] == "4"
        assert params["application_name"] == "timeouts"
        _record(storage, 1)
        assert storage.flush(timeout=10)
        assert storage.get_route_metrics().source == "database"
        with psycopg.connect(storage.connection_string(storage.statement_timeout)) as conn:
            shown = conn.execute(
                "SELECT current_setting('statement_timeout'),"
                " current_setting('idle_in_transaction_session_timeout')"
            ).fetchone()
        assert shown == ("12s", "5s")
        with psycopg.connect(storage.connection_string(storage.read_timeout)) as conn:
            assert conn.execute("SHOW statement_timeout").fetchone() == ("7s",)
    finally:
        storage.close(5)


def test_the_dsn_keeps_what_it_sets_itself(db: Database) -> None:
    dsn = db.dsn + " keepalives_idle=99 connect_timeout=17 options='-c statement_timeout=4s'"
    storage = DatabaseMetricsStorage(dsn)
    params = conninfo_to_dict(storage.connection_string(storage.statement_timeout))
    assert (params["keepalives_idle"], params["connect_timeout"]) == ("99", "17")
    with psycopg.connect(storage.connection_string(storage.statement_timeout)) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("4s",)
    storage.close(1)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("connect_timeout", 0),
        ("read_timeout", -1),
        ("statement_timeout", float("nan")),
        ("tcp_user_timeout", -0.5),
        ("keepalives_idle", 0),
        ("keepalives_interval", "10"),
        ("keepalives_count", 0),
        ("max_cells", 0),
        ("max_batch_cells", 0),
    ],
)
def test_bad_timeouts_and_caps_raise_value_error(argument: str, value: object) -> None:
    with pytest.raises(ValueError, match=argument):
        DatabaseMetricsStorage("host=127.0.0.1 port=9", **{argument: value})  # type: ignore[arg-type]


def test_timeouts_and_caps_from_the_environment() -> None:
    settings = load_settings(
        {
            "OBSERVABILITY_METRICS_CONNECT_TIMEOUT": "2.5",
            "OBSERVABILITY_METRICS_READ_TIMEOUT": "4",
            "OBSERVABILITY_METRICS_STATEMENT_TIMEOUT": "9",
            "OBSERVABILITY_METRICS_TCP_USER_TIMEOUT": "11",
            "OBSERVABILITY_METRICS_KEEPALIVES_IDLE": "12",
            "OBSERVABILITY_METRICS_KEEPALIVES_INTERVAL": "3",
            "OBSERVABILITY_METRICS_KEEPALIVES_COUNT": "5",
            "OBSERVABILITY_METRICS_MAX_CELLS": "5000",
            "OBSERVABILITY_METRICS_MAX_BATCH_CELLS": "700",
        }
    )
    assert (settings.connect_timeout, settings.read_timeout, settings.statement_timeout) == (
        2.5,
        4.0,
        9.0,
    )
    assert (settings.tcp_user_timeout, settings.keepalives_idle) == (11.0, 12.0)
    assert (settings.keepalives_interval, settings.keepalives_count) == (3.0, 5)
    assert (settings.max_cells, settings.max_batch_cells) == (5000, 700)
    for name, bad in (
        ("OBSERVABILITY_METRICS_STATEMENT_TIMEOUT", "soon"),
        ("OBSERVABILITY_METRICS_READ_TIMEOUT", "0"),
        ("OBSERVABILITY_METRICS_KEEPALIVES_COUNT", "2.5"),
        ("OBSERVABILITY_METRICS_MAX_CELLS", "0"),
    ):
        with pytest.raises(ValueError, match=name):
            load_settings({name: bad})
