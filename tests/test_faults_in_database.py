"""Flushes failing inside a running database: a statement timeout, a disk that fills up, a lock
held too long. The batch stays pending under its id and is delivered exactly once when the
fault clears.

A file of its own because the server stays up: each fault is a trigger or a setting in the test's
own database, so these tests share the session's cluster (test_faults_server.py stops its own)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from pgmetrics import DatabaseMetricsStorage
from tests.conftest import Database
from tests.stored import operation_totals, route_totals

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)

DISK_FULL = """
CREATE TABLE public.disk_state (full_now boolean NOT NULL);
INSERT INTO public.disk_state VALUES (true);
CREATE FUNCTION public.refuse_when_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT full_now FROM public.disk_state) THEN
        RAISE EXCEPTION 'No space left on device' USING ERRCODE = 'disk_full';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER refuse_when_full AFTER INSERT OR UPDATE ON pgmetrics.route_cells
FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_when_full();
"""


@pytest.mark.slow
def test_disk_full_during_flushes_then_freed(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(DISK_FULL)
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600, retry_initial=0.05, retry_max=0.2)
    try:
        for _ in range(500):
            storage.record_route_metric("/disk", "POST", True, 2.0)
        for _ in range(3):
            assert not storage.flush()
        storage.record_route_metric("/disk", "POST", False, 4.0)
        assert route_totals(db.dsn) == {}
        with db.connect() as conn:
            conn.execute("UPDATE public.disk_state SET full_now = false")
        assert storage.flush(timeout=10)
        assert storage.dropped_cells == 0
    finally:
        storage.close(timeout=5)
    assert route_totals(db.dsn) == {"/disk": (501, 1, 1004.0)}


@pytest.mark.slow
def test_lock_timeout_during_a_flush_then_released(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET lock_timeout = '200ms'").format(
                psycopg.sql.Identifier(db.name)
            )
        )
        conn.execute("SELECT pgmetrics.record_route_metric('/locked', 'GET', true, 1, now())")
        conn.execute("SELECT pgmetrics.fold_events()")
    storage = DatabaseMetricsStorage(db.dsn, batch_interval=3600, retry_initial=0.05, retry_max=0.2)
    try:
        with db.connect() as holder, holder.transaction():
            # Another session holds a lock that the batch's insert must wait for.
            holder.execute("LOCK TABLE pgmetrics.route_cells IN SHARE MODE")
            for _ in range(100):
                storage.record_route_metric("/locked", "GET", True, 1.0)
            assert not storage.flush()
            assert storage.pending_batches == 1
        assert storage.flush(timeout=10)
        assert storage.dropped_cells == 0
    finally:
        storage.close(timeout=5)
    assert route_totals(db.dsn) == {"/locked": (101, 0, 101.0)}


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
