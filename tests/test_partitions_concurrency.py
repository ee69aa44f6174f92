"""Partitions are built under the fold's lock row: a second builder waits for the first, then
finds the day built, and a fold that must not wait skips."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import Database

BUILD = "SELECT pgmetrics._add_detail_partitions('{2026-03-01 10:00+00}'::timestamptz[])"


def test_builders_of_one_day_serialise(db: Database) -> None:
    with db.connect() as first, db.connect() as second:
        first.execute("BEGIN")
        assert first.execute(BUILD).fetchone() == (2,)
        # While the first holds the lock row, a fold that must not wait skips ...
        skipped = second.execute("SELECT pgmetrics.fold_events(false)").fetchone()
        assert skipped is not None
        assert skipped[0] == {"skipped": "another fold is running"}
        # ... and a second builder waits for it (here until its lock_timeout).
        second.execute("SET lock_timeout = '50ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            second.execute(BUILD)
        first.execute("COMMIT")
        second.execute("RESET lock_timeout")
        assert second.execute(BUILD).fetchone() == (0,), "the day is built once"
        assert second.execute(
            "SELECT count(*) FROM pg_inherits "
            "WHERE inhrelid = 'pgmetrics.route_metrics_p20260301'::regclass"
        ).fetchone() == (1,)
