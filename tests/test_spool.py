"""The spool: what a process could not deliver at exit, delivered exactly once, under the same
batch ids, by the next process with the same directory."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from pgmetrics import DatabaseMetricsStorage
from pgmetrics.cells import Cell
from pgmetrics.config import load_settings
from pgmetrics.flusher import Batch
from pgmetrics.histogram import Histogram
from pgmetrics.spool import Spool, decode, encode
from tests.conftest import Database
from tests.real_servers import free_port
from tests.stored import operation_totals, route_totals

AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def _unreachable() -> str:
    return f"host=127.0.0.1 port={free_port()} user=postgres dbname=nothing"


def _record(storage: DatabaseMetricsStorage, routes: int, events: int) -> None:
    for i in range(events):
        storage.record_route_metric(f"/spool/{i % routes}", "GET", i % 4 != 0, i * 0.25, AT)
    storage.record_operation_metric("job", True, 0.0, AT)


def _expected(routes: int, events: int) -> dict[str, tuple[int, int, float]]:
    expected: dict[str, list[float]] = {}
    for i in range(events):
        totals = expected.setdefault(f"/spool/{i % routes}", [0, 0, 0.0])
        totals[0] += 1
        totals[1] += i % 4 == 0
        totals[2] += i * 0.25
    return {route: (int(t[0]), int(t[1]), t[2]) for route, t in expected.items()}


def _batch_ids(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT batch_id FROM pgmetrics.ingested_batches").fetchall()
    return {str(row[0]) for row in rows}


def test_a_batch_comes_back_from_its_file_bit_for_bit() -> None:
    histogram = Histogram.of([0.1, 0.1, 2.5, 1e6])
    histogram.zero_count = 2
    batch = Batch(
        {
            ("/a/{id}", "GET", 494_000): Cell(
                6,
                5,
                0.1 + 0.2 + 1e6,
                0.0,
                1e6,
                1.7e9 + 0.123456,
                histogram,
            )
        },
        {("job", 494_001): Cell(1, 1, 0.0, 0.0, 0.0, 1.7e9, Histogram(zero_count=1))},
    )
    back = decode(encode(batch))
    assert back.batch_id == batch.batch_id
    assert back.sealed
    assert back.routes == batch.routes
    assert back.operations == batch.operations
    assert math.copysign(1.0, back.routes["/a/{id}", "GET", 494_000].min_ms) == 1.0


def test_undelivered_at_close_is_spooled_then_delivered_once_under_its_ids(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = tmp_path / "spool"
    first = DatabaseMetricsStorage(
        _unreachable(), batch_interval=3600, spool_dir=spool, connect_timeout=0.5
    )
    _record(first, 7, 500)
    with caplog.at_level(logging.WARNING, logger="pgmetrics"):
        first.close(timeout=0.3)
    files = {path.stem for path in spool.glob("*.json")}
    assert len(files) == 1
    assert (
        "501 events (8 cells, 1 batch(es)) not delivered were written to the spool" in caplog.text
    )

    second = DatabaseMetricsStorage(db.dsn, batch_interval=3600, spool_dir=spool)
    try:
        second.start()
        assert second.flush(10)
        assert list(spool.glob("*.json")) == []
    finally:
        second.close()
    assert route_totals(db.dsn) == _expected(7, 500)
    assert operation_totals(db.dsn) == {"job": (1, 0, 0.0)}
    assert _batch_ids(db.dsn) == files


def test_a_batch_claimed_from_the_spool_and_not_delivered_goes_back_under_its_id(
    db: Database, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    first = DatabaseMetricsStorage(
        _unreachable(), batch_interval=3600, spool_dir=spool, connect_timeout=0.5
    )
    _record(first, 3, 90)
    first.close(timeout=0.2)
    files = {path.stem for path in spool.glob("*.json")}
    # The database is still down for the next process: it claims the batch, cannot deliver
    # it, and leaves it for the one after, together with what it recorded itself.
    second = DatabaseMetricsStorage(
        _unreachable(), batch_interval=3600, spool_dir=spool, connect_timeout=0.5
    )
    second.start()
    _record(second, 3, 30)
    second.close(timeout=0.2)
    spooled = {path.stem for path in spool.glob("*.json")}
    assert files < spooled
    assert len(spooled) == 2

    third = DatabaseMetricsStorage(db.dsn, batch_interval=3600, spool_dir=spool)
    try:
        third.start()
        assert third.flush(10)
    finally:
        third.close()
    expected = _expected(3, 90)
    for route, (total, failed, duration) in _expected(3, 30).items():
        before = expected[route]
        expected[route] = (before[0] + total, before[1] + failed, before[2] + duration)
    assert route_totals(db.dsn) == expected
    assert operation_totals(db.dsn) == {"job": (2, 0, 0.0)}
    assert _batch_ids(db.dsn) == spooled


def test_a_file_is_claimed_by_one_holder_at_a_time(tmp_path: Path) -> None:
    writer = Spool(tmp_path)
    batches = [
        Batch({("/x", "GET", 1): Cell(1, 1, 1.0, 1.0, 1.0, 3600.0, Histogram.of([1.0]))}, {})
    ]
    batches.append(
        Batch({("/y", "GET", 1): Cell(1, 0, 2.0, 2.0, 2.0, 3600.0, Histogram.of([2.0]))}, {})
    )
    assert writer.write(batches).batches == 2
    one, other = Spool(tmp_path), Spool(tmp_path)
    claimed = one.claim()
    assert {batch.batch_id for batch in claimed} == {batch.batch_id for batch in batches}
    assert other.claim() == []  # held by the first: another worker leaves them alone
    one.release(claimed[0].batch_id)  # delivered: its file goes
    assert one.write([claimed[1]]).batches == 1  # not delivered: kept, released
    assert [batch.batch_id for batch in other.claim()] == [claimed[1].batch_id]


def test_a_full_spool_counts_and_logs_what_it_could_not_hold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = DatabaseMetricsStorage(
        _unreachable(), batch_interval=3600, spool_dir=tmp_path, spool_max_bytes=200
    )
    _record(storage, 40, 400)
    with caplog.at_level(logging.ERROR, logger="pgmetrics"):
        storage.close(timeout=0.2)
    assert list(tmp_path.glob("*.json")) == []
    assert storage.spool_overflowed_events == 401
    assert "the spool" in caplog.text
    assert "is full (200 bytes): 401 events (41 cells, 1 batch(es)) are lost" in caplog.text


def test_without_a_spool_the_loss_is_logged_with_its_numbers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = DatabaseMetricsStorage(_unreachable(), batch_interval=3600)
    _record(storage, 5, 50)
    with caplog.at_level(logging.ERROR, logger="pgmetrics"):
        storage.close(timeout=0.2)
    assert "51 events (6 cells) are not delivered" in caplog.text


def test_spool_settings() -> None:
    env = {
        "OBSERVABILITY_METRICS_SPOOL_DIR": "/var/spool/app",
        "OBSERVABILITY_METRICS_SPOOL_MAX_MB": "8",
    }
    settings = load_settings(env)
    assert (settings.spool_dir, settings.spool_max_bytes) == ("/var/spool/app", 8 * 1024 * 1024)
    assert load_settings({}).spool_dir is None
    with pytest.raises(ValueError, match="OBSERVABILITY_METRICS_SPOOL_DIR must be an absolute"):
        load_settings({"OBSERVABILITY_METRICS_SPOOL_DIR": "spool"})
    with pytest.raises(ValueError, match="OBSERVABILITY_METRICS_SPOOL_MAX_MB"):
        load_settings({"OBSERVABILITY_METRICS_SPOOL_MAX_MB": "0"})


def test_a_temporary_file_left_by_a_killed_writer_is_removed_once_stale(tmp_path: Path) -> None:
    fresh = tmp_path / ".tmp-1-fresh"
    stale = tmp_path / ".tmp-2-stale"
    fresh.write_bytes(b"{")
    stale.write_bytes(b"{")
    hours_ago = time.time() - 7200
    os.utime(stale, (hours_ago, hours_ago))
    assert Spool(tmp_path).claim() == []
    assert fresh.exists()
    assert not stale.exists()


def _batch(route: str, cells: int = 1) -> Batch:
    return Batch(
        {
            (f"{route}/{i}", "GET", 1): Cell(2, 1, 3.0, 1.0, 2.0, 3600.0, Histogram.of([1.0, 2.0]))
            for i in range(cells)
        },
        {},
    )


def _bad_entries(spool: Path) -> dict[str, str]:
    """What the issue found blocking a spool, by name: each must be set aside on its own."""
    spool.mkdir(parents=True, exist_ok=True)
    good = encode(_batch("/shape"))
    overflow = spool / f"{uuid.uuid4()}.json"  # a count no integer column holds
    document = json.loads(good)
    document["batch_id"] = overflow.stem
    document["routes"][0][3] = 1e400
    overflow.write_text(json.dumps(document).replace("Infinity", "1e400"))
    (spool / "x.json").mkdir()
    (spool / f"{uuid.uuid4()}.json").write_bytes(b'{"format": "pgmetrics-spool-1", "rou')
    (spool / f"{uuid.uuid4()}.json").write_bytes(b"[]")
    return {path.name: path.read_text() if path.is_file() else "" for path in spool.iterdir()}


def test_a_file_that_is_not_a_batch_is_set_aside_once_and_the_others_are_claimed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = Spool(tmp_path)
    batches = [_batch("/before"), _batch("/after")]
    assert writer.write(batches[:1]).batches == 1
    bad = _bad_entries(tmp_path)
    assert writer.write(batches[1:]).batches == 1
    with caplog.at_level(logging.ERROR, logger="pgmetrics"):
        claimed = Spool(tmp_path).claim()
    assert {batch.batch_id for batch in claimed} == {batch.batch_id for batch in batches}
    for name, content in bad.items():
        if name.endswith(".json") and name not in {f"{b.batch_id}.json" for b in batches}:
            aside = tmp_path / f"{name}.bad"
            assert aside.exists(), name
            assert not (tmp_path / name).exists()
            assert caplog.text.count(name) == 2, name  # the file and where it went, once
            if content:
                assert aside.read_text() == content  # kept as it was, to be inspected
    assert "number out of range: 1e400" in caplog.text
    assert "not a regular file" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pgmetrics"):
        assert Spool(tmp_path).claim() == []  # held by the first claimer; the bad ones skipped
    assert caplog.text == ""


def test_bad_spool_entries_never_reach_a_record_call_nor_stop_delivery(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = tmp_path / "spool"
    first = DatabaseMetricsStorage(
        _unreachable(), batch_interval=3600, spool_dir=spool, connect_timeout=0.5
    )
    _record(first, 3, 30)
    first.close(timeout=0.3)
    spooled = {path.stem for path in spool.glob("*.json")}
    assert len(spooled) == 1
    _bad_entries(spool)

    second = DatabaseMetricsStorage(db.dsn, batch_interval=3600, spool_dir=spool)
    try:
        with caplog.at_level(logging.ERROR, logger="pgmetrics"):
            second.record_route_metric("/after", "GET", True, 1.0, AT)  # claims the spool
        assert second.flush(10)
    finally:
        second.close()
    assert "cannot be read" not in caplog.text
    assert _batch_ids(db.dsn) >= spooled
    expected = _expected(3, 30)
    expected["/after"] = (1, 0, 1.0)
    assert route_totals(db.dsn) == expected
    assert sorted(path.name for path in spool.glob("*.json")) == []
    assert len(list(spool.glob("*.json.bad"))) == 4


_FULL_DISK_WRITER = """
import logging, resource, signal, sys
from pgmetrics.spool import Spool, encode
from tests.test_spool import _batch

logging.basicConfig(level=logging.ERROR, format="%(message)s")
batches = [_batch("/a"), _batch("/b"), _batch("/big", 400), _batch("/c")]
limit = 4096  # bytes per file: the small batches fit, the big one does not
assert max(len(encode(batch)) for batch in batches[:2] + batches[3:]) < limit
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
result = Spool(sys.argv[1]).write(batches)
print(result.batches, result.events, result.failed_batches, result.failed_events)
print(*(str(batch.batch_id) for batch in batches))
"""


def test_a_write_the_file_system_refuses_is_counted_exactly_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    # The file size limit makes the kernel refuse writes as a full disk does (EFBIG for ENOSPC),
    # in a process of its own so that nothing else here is limited.
    child = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_WRITER, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
        timeout=60,
    )
    counts, ids = child.stdout.splitlines()
    # Written: /a and /b (2 events each); not written: the big one (800) and /c after it (2).
    assert counts.split() == ["2", "4", "2", "802"]
    assert (
        "802 events (401 cells, 2 batch(es)) were not written and are lost; "
        "4 events (2 batch(es)) were written" in child.stderr
    )
    assert sorted(path.name for path in tmp_path.iterdir() if path.name != ".lock") == sorted(
        f"{batch_id}.json" for batch_id in ids.split()[:2]
    )
    claimer = Spool(tmp_path)
    assert sorted(str(batch.batch_id) for batch in claimer.claim()) == sorted(ids.split()[:2])
    assert Spool(tmp_path).claim() == []
