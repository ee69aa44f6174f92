"""Reads on a physical streaming replica: a hot standby of the test cluster (pg_basebackup -R).

Every function pgmetrics_reader may execute and every view answers there, as on the primary,
without writing; the Python client reads through the replica, falls back to the primary and then
to memory, and counts each event once while replay lags (paused with pg_wal_replay_pause())."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devtools.localcluster import LocalCluster
from pgmetrics import DatabaseMetricsStorage
from pgmetrics.config import load_settings
from tests.conftest import Database
from tests.proxy import blackhole_proxy
from tests.stored import route_totals

pytestmark = pytest.mark.slow

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
OLD = T0 - timedelta(days=120)  # expired by the retention run below: only its rollups stay
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
REPLAY_TIMEOUT = 60.0

READER_FUNCTIONS = """
SELECT p.oid::regprocedure::text
FROM pg_catalog.pg_proc AS p
WHERE p.pronamespace = 'pgmetrics'::regnamespace
    AND pg_catalog.has_function_privilege('pgmetrics_reader', p.oid, 'EXECUTE')
"""

VIEWS = """
SELECT c.relname::text, pg_catalog.has_table_privilege('pgmetrics_reader', c.oid, 'SELECT')
FROM pg_catalog.pg_class AS c
WHERE c.relnamespace = 'pgmetrics'::regnamespace AND c.relkind IN ('v', 'm')
"""

_SUMMARY_ARGS = [
    {"bucket": bucket, "tz": tz}
    for bucket in ("hour", "day", "week", "month", "all")
    for tz in ("UTC", "America/New_York")
]

# Every function pgmetrics_reader may execute, with the calls that exercise it. A reader
# function added to the schema fails test_every_reader_function_and_view_answers_on_the_standby
# until it is listed here, and so is run on a standby.
READER_CALLS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "pgmetrics.route_metrics_summary(timestamp with time zone,timestamp with time zone,"
    "text,text,text,text)": [
        (
            "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, %(bucket)s, "
            "tz => %(tz)s)",
            {"start": START, "end": END, **args},
        )
        for args in _SUMMARY_ARGS
    ]
    + [
        (
            "SELECT * FROM pgmetrics.route_metrics_summary(%(start)s, %(end)s, 'day', "
            "route => '/users/{id}', method => 'get')",
            {"start": T0 - timedelta(days=3), "end": T0 + timedelta(days=3)},
        )
    ],
    "pgmetrics.operation_metrics_summary(timestamp with time zone,timestamp with time zone,"
    "text,text,text)": [
        (
            "SELECT * FROM pgmetrics.operation_metrics_summary(%(start)s, %(end)s, %(bucket)s, "
            "tz => %(tz)s)",
            {"start": START, "end": END, **args},
        )
        for args in _SUMMARY_ARGS
    ]
    + [
        (
            "SELECT * FROM pgmetrics.operation_metrics_summary(%(start)s, %(end)s, 'hour', "
            "operation => 'send_email')",
            {"start": T0 - timedelta(days=1), "end": T0 + timedelta(days=1)},
        )
    ],
    "pgmetrics.route_duration_quantile(double precision,timestamp with time zone,"
    "timestamp with time zone,text,text)": [
        (
            "SELECT pgmetrics.route_duration_quantile(%(q)s, %(start)s, %(end)s)",
            {"q": q, "start": START, "end": END},
        )
        for q in (0.5, 0.95, 0.99)
    ]
    + [
        (
            "SELECT pgmetrics.route_duration_quantile(0.9, %(start)s, %(end)s, "
            "route => '/users/{id}', method => 'GET')",
            {"start": T0 - timedelta(hours=2), "end": T0 + timedelta(hours=2)},
        )
    ],
    "pgmetrics.operation_duration_quantile(double precision,timestamp with time zone,"
    "timestamp with time zone,text)": [
        (
            "SELECT pgmetrics.operation_duration_quantile(%(q)s, %(start)s, %(end)s)",
            {"q": q, "start": START, "end": END},
        )
        for q in (0.5, 0.95, 0.99)
    ]
    + [
        (
            "SELECT pgmetrics.operation_duration_quantile(0.5, %(start)s, %(end)s, "
            "operation => 'send_email')",
            {"start": T0 - timedelta(hours=2), "end": T0 + timedelta(hours=2)},
        )
    ],
    "pgmetrics.route_duration_histogram(timestamp with time zone,timestamp with time zone,"
    "text,text)": [
        (
            "SELECT * FROM pgmetrics.route_duration_histogram(%(start)s, %(end)s)",
            {"start": START, "end": END},
        ),
        (
            "SELECT * FROM pgmetrics.route_duration_histogram(%(start)s, %(end)s, "
            "route => '/users/{id}', method => 'GET')",
            {"start": T0 - timedelta(hours=2), "end": T0 + timedelta(hours=2)},
        ),
    ],
    "pgmetrics.operation_duration_histogram(timestamp with time zone,timestamp with time zone,"
    "text)": [
        (
            "SELECT * FROM pgmetrics.operation_duration_histogram(%(start)s, %(end)s, "
            "operation => 'send_email')",
            {"start": START, "end": END},
        )
    ],
    "pgmetrics.report_status()": [("SELECT pgmetrics.report_status()", {})],
    # The aggregate the day, week and month views call; they are read below.
    "pgmetrics._histogram_concat(integer[])": [
        (
            "SELECT pgmetrics._histogram_concat(h) "
            "FROM (VALUES ('{32769}'::int[]), ('{1}')) AS t (h)",
            {},
        )
    ],
}


# Fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def standby(cluster: LocalCluster, template: str) -> Iterator[LocalCluster]:
    """A hot standby of the test cluster, streaming from it, for the whole module."""
    server = cluster.create_standby()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def replica(standby: LocalCluster) -> Iterator[LocalCluster]:
    """The standby, running and replaying, and left so whatever the test did to it."""
    _restore(standby)
    try:
        yield standby
    finally:
        _restore(standby)


def _restore(standby: LocalCluster) -> None:
    if not standby.is_running():
        standby.start()
    with psycopg.connect(standby.dsn(), autocommit=True) as conn:
        conn.execute("SELECT pg_catalog.pg_wal_replay_resume()")


def _connect(dsn: str) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(dsn, autocommit=True)


def wait_replayed(db: Database, standby: LocalCluster) -> None:
    """Waits until the standby has replayed everything the primary has written so far."""
    with _connect(db.cluster.dsn()) as primary:
        row = primary.execute("SELECT pg_catalog.pg_current_wal_insert_lsn()").fetchone()
    assert row is not None
    target = row[0]
    deadline = time.monotonic() + REPLAY_TIMEOUT
    with _connect(standby.dsn()) as conn:
        while True:
            row = conn.execute(
                "SELECT pg_catalog.pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
            ).fetchone()
            if row is not None and row[0]:
                return
            assert time.monotonic() < deadline, f"the standby did not replay up to {target}"
            time.sleep(0.02)


def pause_replay(standby: LocalCluster) -> None:
    """Stops replay on the standby, and waits until it has stopped."""
    deadline = time.monotonic() + REPLAY_TIMEOUT
    with _connect(standby.dsn()) as conn:
        conn.execute("SELECT pg_catalog.pg_wal_replay_pause()")
        while True:
            row = conn.execute("SELECT pg_catalog.pg_get_wal_replay_pause_state()").fetchone()
            if row is not None and row[0] == "paused":
                return
            assert time.monotonic() < deadline, "replay did not pause"
            time.sleep(0.02)


def resume_replay(db: Database, standby: LocalCluster) -> None:
    with _connect(standby.dsn()) as conn:
        conn.execute("SELECT pg_catalog.pg_wal_replay_resume()")
    wait_replayed(db, standby)


def _record_in_sql(conn: psycopg.Connection[tuple[Any, ...]], at: datetime, count: int) -> None:
    for i in range(count):
        conn.execute(
            "SELECT pgmetrics.record_route_metric(%s, %s, %s, %s, %s)",
            ("/users/{id}" if i % 3 else "/health", "GET" if i % 4 else "POST", i % 7 != 0,
             1.5 + i * 3.25, at + timedelta(minutes=i * 17)),
        )  # fmt: skip
        conn.execute(
            "SELECT pgmetrics.record_operation_metric(%s, %s, %s, %s)",
            ("send_email" if i % 2 else "db.query", i % 5 != 0, 0.25 + i, at + timedelta(hours=i)),
        )


def _deploy_data(db: Database) -> None:
    """Detail, rollups of expired detail, and a tail not folded yet: ingested batches and events."""
    with db.connect() as conn:
        _record_in_sql(conn, OLD, 30)
        _record_in_sql(conn, T0, 40)
        conn.execute("SELECT pgmetrics.fold_events()")
        conn.execute("SELECT pgmetrics.run_retention(%s)", (T0 + timedelta(days=1),))
        _record_in_sql(conn, T0 + timedelta(hours=5), 12)
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600, fold_interval=0)
    try:
        for i in range(25):
            storage.record_route_metric("/users/{id}", "GET", i % 6 != 0, 2.0 * i, T0)
            storage.record_operation_metric("send_email", True, 0.5 * i, T0 + timedelta(days=1))
        assert storage.flush(timeout=10)
    finally:
        storage.close(5)
    with db.connect() as conn:
        status = conn.execute("SELECT pgmetrics.report_status()").fetchone()
    assert status is not None
    tiers = status[0]["tiers"]
    assert tiers["route_cells"] > 0 or tiers["route_events"] > 0, "no unfolded tail"
    assert tiers["route_metrics_rollup"] > 0


def _as_reader(
    conn: psycopg.Connection[tuple[Any, ...]], query: str, params: dict[str, Any]
) -> Any:
    with conn.transaction():
        conn.execute("SET LOCAL ROLE pgmetrics_reader")
        return sorted(conn.execute(query, params).fetchall(), key=repr)  # type: ignore[arg-type]


def _storage(db: Database, standby: LocalCluster, **kwargs: Any) -> DatabaseMetricsStorage:
    options: dict[str, Any] = {
        "batch_interval": 3600,
        "fold_interval": 0,
        "connect_timeout": 2,
        "read_timeout": 10,
        "retry_initial": 0.05,
        "retry_max": 0.2,
        **kwargs,
    }
    read = options.pop(
        "read_database", standby.dsn(db.name) + " application_name=pgmetrics_replica"
    )
    return DatabaseMetricsStorage(db.dsn, read_database=read, **options)


def _served_by_replica(standby: LocalCluster, db: Database) -> bool:
    with _connect(standby.dsn(db.name)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity "
            "WHERE application_name = 'pgmetrics_replica' AND datname = %s",
            (db.name,),
        ).fetchone()
    return row is not None and row[0] >= 1


def _fallbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """pgmetrics' warnings of reads that the replica could not serve."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "pgmetrics" and "read replica" in record.getMessage()
    ]


def _record(storage: DatabaseMetricsStorage, count: int, route: str = "/lag") -> None:
    for i in range(count):
        storage.record_route_metric(route, "GET", i % 4 != 0, 1.0, T0)


def _read_total(storage: DatabaseMetricsStorage) -> int:
    report = storage.get_route_metrics(bucket="all")
    assert report.source == "database", report.error
    return sum(row.total_requests for row in report)


def _stored_total(dsn: str) -> int:
    with _connect(dsn) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(total_requests), 0)::bigint "
            "FROM pgmetrics.route_metrics_summary(%s, %s, 'all')",
            (START, END),
        ).fetchone()
    assert row is not None
    return int(row[0])


# The SQL API on the standby ----------------------------------------------------------------


def test_every_reader_function_and_view_answers_on_the_standby(
    db: Database, replica: LocalCluster
) -> None:
    _deploy_data(db)
    with db.connect() as conn:
        functions = {str(row[0]) for row in conn.execute(READER_FUNCTIONS).fetchall()}
        views = {str(row[0]): bool(row[1]) for row in conn.execute(VIEWS).fetchall()}
    assert functions == set(READER_CALLS), "a reader function is not exercised on the standby"
    assert views, "no views found"
    assert all(views.values()), f"views not readable by pgmetrics_reader: {views}"
    calls = [call for name in sorted(functions) for call in READER_CALLS[name]]
    calls += [
        (f"SELECT * FROM pgmetrics.{name}", {})  # names from the catalog, not from input
        for name in sorted(views)
    ]
    wait_replayed(db, replica)
    with db.connect() as primary, _connect(replica.dsn(db.name)) as standby:
        row = standby.execute("SELECT pg_catalog.pg_is_in_recovery()").fetchone()
        assert row is not None
        assert row[0] is True
        answered = 0
        for query, params in calls:
            expected = _as_reader(primary, query, params)
            # A standby refuses any write: a reader function that wrote would fail here.
            assert _as_reader(standby, query, params) == expected, query
            answered += bool(expected and expected != [(None,)])
    assert answered >= len(calls) - 2, "most calls should find data"


def test_fold_and_retention_run_only_on_the_primary(db: Database, replica: LocalCluster) -> None:
    with db.connect() as conn:
        _record_in_sql(conn, T0, 3)
    wait_replayed(db, replica)
    with _connect(replica.dsn(db.name)) as standby:
        row = standby.execute("SELECT pgmetrics.run_retention()").fetchone()
        assert row is not None
        assert row[0] == {"skipped": "hot standby: retention runs on the primary"}
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            standby.execute("SELECT pgmetrics.fold_events()")
        # Unfolded events are read all the same.
        assert _stored_total(replica.dsn(db.name)) == 3


# The Python client -------------------------------------------------------------------------


def test_the_read_database_url_setting() -> None:
    env = {
        "OBSERVABILITY_METRICS_STORAGE": "database",
        "OBSERVABILITY_METRICS_DATABASE_URL": "postgresql://primary/metrics",
        "OBSERVABILITY_METRICS_READ_DATABASE_URL": " postgresql://standby/metrics ",
    }
    settings = load_settings(env)
    assert settings.database_url == "postgresql://primary/metrics"
    assert settings.read_database_url == "postgresql://standby/metrics"
    del env["OBSERVABILITY_METRICS_READ_DATABASE_URL"]
    assert load_settings(env).read_database_url is None
    with pytest.raises(ValueError, match="read_database"):
        DatabaseMetricsStorage("postgresql://primary/metrics", read_database="")


def test_reads_are_served_by_the_replica(db: Database, replica: LocalCluster) -> None:
    storage = _storage(db, replica)
    try:
        _record(storage, 10)
        assert storage.flush(timeout=10)
        wait_replayed(db, replica)
        pause_replay(replica)
        # Written on the primary behind the client's back: the standby has not replayed it.
        with db.connect() as conn:
            _record_in_sql(conn, T0, 5)
        assert _stored_total(db.dsn) == 15
        assert _read_total(storage) == 10
        assert _served_by_replica(replica, db)
        resume_replay(db, replica)
        assert _read_total(storage) == 15
    finally:
        storage.close(5)


def test_a_lagging_replica_counts_each_event_once(db: Database, replica: LocalCluster) -> None:
    storage = _storage(db, replica)
    try:
        _record(storage, 20)
        assert storage.flush(timeout=10)
        wait_replayed(db, replica)
        assert _read_total(storage) == 20
        pause_replay(replica)
        # Acknowledged by the primary, not replayed by the standby: counted from memory.
        _record(storage, 30)
        assert storage.flush(timeout=10)
        _record(storage, 7)  # not delivered at all
        assert _stored_total(db.dsn) == 50
        assert _stored_total(replica.dsn(db.name)) == 20
        assert _read_total(storage) == 57
        assert _read_total(storage) == 57
        resume_replay(db, replica)
        assert _stored_total(replica.dsn(db.name)) == 50
        # Now the standby counts them, and memory no longer does.
        assert _read_total(storage) == 57
        pause_replay(replica)
        assert storage.flush(timeout=10)
        assert _read_total(storage) == 57
        resume_replay(db, replica)
        assert _read_total(storage) == 57
    finally:
        storage.close(5)


def test_a_batch_delivered_while_a_replica_read_runs_counts_once(
    db: Database, replica: LocalCluster
) -> None:
    with blackhole_proxy("127.0.0.1", replica.port) as proxy:
        storage = _storage(db, replica, read_database=proxy.dsn(replica.dsn(db.name)))
        try:
            _record(storage, 11)
            assert storage.flush(timeout=10)
            wait_replayed(db, replica)
            pause_replay(replica)
            _record(storage, 6)
            # The read's summary waits at the proxy while the 6 events are delivered to the
            # primary: memory then holds them both as delivered during the read and as not
            # replayed yet.
            delivered: list[bool] = []
            done = proxy.when_sent(
                b"route_metrics_summary", lambda: delivered.append(storage.flush(10)), hold=True
            )
            assert _read_total(storage) == 17
            assert done.is_set()
            assert delivered == [True]
            assert _stored_total(db.dsn) == 17
            assert _read_total(storage) == 17
            resume_replay(db, replica)
            assert _read_total(storage) == 17
        finally:
            storage.close(5)


def test_a_replica_behind_what_memory_holds_is_read_around(
    db: Database, replica: LocalCluster, caplog: pytest.LogCaptureFixture
) -> None:
    # Memory keeps at most max_cells acknowledged cells for the replica: past that, a replica that
    # has not replayed the batches dropped is not read from.
    storage = _storage(db, replica, max_cells=2)
    try:
        wait_replayed(db, replica)
        pause_replay(replica)
        for i in range(4):
            _record(storage, 5, route=f"/lag/{i}")
            assert storage.flush(timeout=10)
        with caplog.at_level(logging.WARNING, logger="pgmetrics"):
            assert _read_total(storage) == 20
        assert any("has not replayed" in message for message in _fallbacks(caplog))
        caplog.clear()
        resume_replay(db, replica)
        with caplog.at_level(logging.WARNING, logger="pgmetrics"):
            assert _read_total(storage) == 20
        assert _fallbacks(caplog) == []
    finally:
        storage.close(5)


def test_a_stopped_replica_falls_back_to_the_primary(
    db: Database, replica: LocalCluster, caplog: pytest.LogCaptureFixture
) -> None:
    storage = _storage(db, replica)
    try:
        _record(storage, 12)
        assert storage.flush(timeout=10)
        wait_replayed(db, replica)
        assert _read_total(storage) == 12
        replica.stop()
        _record(storage, 8)
        assert storage.flush(timeout=10)
        _record(storage, 3)
        with caplog.at_level(logging.WARNING, logger="pgmetrics"):
            assert _read_total(storage) == 23
        assert _fallbacks(caplog)
        replica.start()
        wait_replayed(db, replica)
        # Reads skip the replica for retry_max after it failed, then go back to it.
        deadline = time.monotonic() + REPLAY_TIMEOUT
        while True:
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="pgmetrics"):
                assert _read_total(storage) == 23
            if not _fallbacks(caplog) and _served_by_replica(replica, db):
                break
            assert time.monotonic() < deadline, "reads did not go back to the replica"
            time.sleep(0.05)
    finally:
        storage.close(5)


def test_replica_and_primary_down_read_from_memory(db: Database, replica: LocalCluster) -> None:
    with (
        blackhole_proxy("127.0.0.1", db.cluster.port) as primary,
        blackhole_proxy("127.0.0.1", replica.port) as standby,
    ):
        storage = DatabaseMetricsStorage(
            primary.dsn(db.dsn),
            read_database=standby.dsn(replica.dsn(db.name)),
            batch_interval=3600,
            connect_timeout=1,
            read_timeout=3,
            retry_initial=0.05,
            retry_max=0.2,
        )
        try:
            _record(storage, 9)
            assert storage.flush(timeout=10)
            wait_replayed(db, replica)
            assert _read_total(storage) == 9
            _record(storage, 4)
            primary.close()
            standby.close()
            report = storage.get_route_metrics(bucket="all")
            # As without a replica: memory answers for what it holds, never an exception.
            assert report.source == "memory"
            assert report.error
            assert sum(row.total_requests for row in report) == 4
        finally:
            storage.close(0.5)
    assert route_totals(db.dsn) == {"/lag": (9, 3, 9.0)}


def test_recording_to_a_standby_by_mistake_keeps_the_metrics(
    db: Database, replica: LocalCluster, tmp_path: Path
) -> None:
    wait_replayed(db, replica)
    mistaken = DatabaseMetricsStorage(
        replica.dsn(db.name),
        batch_interval=3600,
        connect_timeout=2,
        retry_initial=0.05,
        retry_max=0.2,
        spool_dir=tmp_path,
    )
    try:
        _record(mistaken, 6)
        assert mistaken.flush(timeout=1) is False
        assert mistaken.pending_batches == 1
        report = mistaken.get_route_metrics(bucket="all")
        assert sum(row.total_requests for row in report) == 6
    finally:
        mistaken.close(0.5)  # what the standby refused goes to the spool
    assert any(tmp_path.iterdir())
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600, spool_dir=tmp_path)
    try:
        storage.start()
        assert storage.flush(timeout=10)
    finally:
        storage.close(5)
    assert route_totals(db.dsn) == {"/lag": (6, 2, 6.0)}
