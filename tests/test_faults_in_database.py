"""Flushes failing inside the database: a disk that fills up, and a lock held too long. The
batch stays pending under its id and is delivered exactly once when the fault clears."""

from __future__ import annotations

import psycopg
import pytest

from pgmetrics import DatabaseMetricsStorage
from tests.conftest import Database
from tests.stored import route_totals

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
