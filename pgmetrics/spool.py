"""A local directory holding the batches a process could not deliver before it exited.

Each batch is one file, ``<batch_id>.json``, in a format of its own (not the wire format of
``ingest_batch``, which may change): the batch id and its cells with their keys, counts, sums,
minimum and maximum, last time, histogram counts and zero count. The next process that starts
with the same directory claims the files and sends the batches through its flusher under the same
ids, so the database applies each exactly once whoever sends it and however often.

Several worker processes share one directory: files appear by an atomic rename, a process claims
a file by holding an exclusive ``flock`` on it until the database has acknowledged the batch (a
process that dies releases its claims with its file descriptors), and writers serialise on a lock
file so that the size bound holds across processes. What does not fit under the bound is not
written; the caller counts and logs it. A write the file system refuses (a full disk) leaves no
temporary file behind: the batches written before it stay claimable, the rest are counted.

A file that cannot be read as a batch (not a regular file, unreadable, malformed, a number out of
range) is renamed ``<name>.bad`` and logged once, naming it: later claims skip it without reading
it, the other files are claimed as before, and the operator can inspect it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import math
import os
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgmetrics.cells import Cell, OperationCells, RouteCells
from pgmetrics.flusher import Batch
from pgmetrics.histogram import Histogram

logger = logging.getLogger("pgmetrics")

FORMAT = "pgmetrics-spool-1"
SUFFIX = ".json"
_LOCK_NAME = ".lock"
_TMP_PREFIX = ".tmp-"
BAD_SUFFIX = ".bad"
_STALE_SECONDS = 3600.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# Errors of the moment (out of file descriptors or memory): the file is tried at the next claim.
_PASSING = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EINTR, errno.EAGAIN})


def events(batch: Batch) -> int:
    """The number of events (requests and executions) a batch counts."""
    return sum(int(cell.total) for cell in batch.routes.values()) + sum(
        int(cell.total) for cell in batch.operations.values()
    )


def cells(batch: Batch) -> int:
    return len(batch.routes) + len(batch.operations)


def _cell_record(cell: Cell) -> list[Any]:
    histogram = cell.histogram
    return [
        int(cell.total),
        int(cell.successful),
        float(cell.sum_ms),
        float(cell.min_ms),
        float(cell.max_ms),
        float(cell.last_time),
        sorted(histogram.counts.items()),
        histogram.zero_count,
    ]


def _cell(record: list[Any]) -> Cell:
    total, successful, total_ms, low, high, last, counts, zero_count = record
    histogram = Histogram({int(index): int(count) for index, count in counts}, int(zero_count))
    return Cell(
        int(total),
        int(successful),
        float(total_ms),
        float(low),
        float(high),
        float(last),
        histogram,
    )


def encode(batch: Batch) -> bytes:
    document = {
        "format": FORMAT,
        "batch_id": str(batch.batch_id),
        "routes": [[r, m, h, *_cell_record(c)] for (r, m, h), c in batch.routes.items()],
        "operations": [[o, h, *_cell_record(c)] for (o, h), c in batch.operations.items()],
    }
    # repr-exact floats: the sums and extremes come back bit for bit.
    return json.dumps(document, separators=(",", ":")).encode()


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: a sum or a bound no database column holds
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _constant(text: str) -> float:
    raise ValueError(f"not a number: {text}")


def decode(data: bytes) -> Batch:
    document = json.loads(data, parse_float=_finite, parse_constant=_constant)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    routes: RouteCells = {
        (str(r[0]), str(r[1]), int(r[2])): _cell(r[3:]) for r in document["routes"]
    }
    operations: OperationCells = {
        (str(o[0]), int(o[1])): _cell(o[2:]) for o in document["operations"]
    }
    # Sealed: its content must never change again under this id.
    return Batch(routes, operations, uuid.UUID(document["batch_id"]), sealed=True)


@dataclass
class WriteResult:
    batches: int = 0
    cells: int = 0
    events: int = 0
    overflow_batches: int = 0
    overflow_cells: int = 0
    overflow_events: int = 0
    # Refused by the file system (a full disk): not written, already logged with these numbers.
    failed_batches: int = 0
    failed_cells: int = 0
    failed_events: int = 0


class Spool:
    """The spool directory ``path``, holding at most ``max_bytes`` of batch files."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._claims: dict[uuid.UUID, int] = {}  # batch id -> fd holding the file's flock
        # Reentrant: a SIGTERM handler spools in the thread it interrupted, which may hold it.
        self._lock = threading.RLock()
        self._unmovable: set[Path] = set()

    def after_fork_in_child(self) -> None:
        # The claims are the parent's. A flock belongs to the open file description, which the
        # parent still holds, so closing the child's copies leaves the parent's locks in place.
        for fd in self._claims.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._claims = {}
        self._lock = threading.RLock()

    def _file(self, batch_id: uuid.UUID) -> Path:
        return self.path / f"{batch_id}{SUFFIX}"

    @contextlib.contextmanager
    def _writers(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _size(self) -> int:
        total = 0
        for entry in os.scandir(self.path):
            if entry.name.endswith(SUFFIX):
                with contextlib.suppress(FileNotFoundError):
                    total += entry.stat().st_size
        return total

    def write(self, batches: list[Batch]) -> WriteResult:
        """Writes the batches not already held as files; a batch claimed from the spool keeps
        its file, released for the next process."""
        result = WriteResult()
        fresh = []
        with self._lock:
            for batch in batches:
                fd = self._claims.pop(batch.batch_id, None)
                if fd is None:
                    fresh.append(batch)
                    continue
                os.close(fd)
                result.batches += 1
                result.cells += cells(batch)
                result.events += events(batch)
        if not fresh:
            return result
        with self._writers():
            size = self._size()
            error: OSError | None = None
            for batch in fresh:
                data = encode(batch)
                if error is None and size + len(data) > self.max_bytes:
                    result.overflow_batches += 1
                    result.overflow_cells += cells(batch)
                    result.overflow_events += events(batch)
                    continue
                if error is None:
                    try:
                        self._write_file(batch, data)
                    except OSError as exc:
                        # Most likely a full disk: the next batch would fail the same way.
                        error = exc
                if error is not None:
                    result.failed_batches += 1
                    result.failed_cells += cells(batch)
                    result.failed_events += events(batch)
                    continue
                size += len(data)
                result.batches += 1
                result.cells += cells(batch)
                result.events += events(batch)
        if error is not None:
            logger.error(
                "pgmetrics: the spool %s refused a write: %s; %d events (%d cells, %d batch(es)) "
                "were not written and are lost; %d events (%d batch(es)) were written",
                self.path,
                error,
                result.failed_events,
                result.failed_cells,
                result.failed_batches,
                result.events,
                result.batches,
            )
        return result

    def _write_file(self, batch: Batch, data: bytes) -> None:
        """Writes the batch's file whole, or leaves nothing: the name appears by a rename."""
        temporary = self.path / f"{_TMP_PREFIX}{os.getpid()}-{batch.batch_id}"
        try:
            with open(temporary, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._file(batch.batch_id))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def claim(self) -> list[Batch]:
        """The batches of every file no other live process holds, each now held by this one
        until ``release``. A file that is not a batch is moved aside (``.bad``) and logged; the
        others are claimed all the same."""
        try:
            found = [entry for entry in os.scandir(self.path) if entry.name.endswith(SUFFIX)]
        except FileNotFoundError:
            return []
        stamped = []
        for entry in found:
            with contextlib.suppress(FileNotFoundError):  # delivered by another process since
                stamped.append((entry.stat().st_mtime_ns, entry.name))
        self._remove_stale_temporaries()
        claimed = []
        for _, name in sorted(stamped):
            batch = self._claim_file(self.path / name)
            if batch is not None:
                claimed.append(batch)
        return claimed

    def _remove_stale_temporaries(self) -> None:
        """Removes what writers killed before their rename left behind: a temporary file is
        renamed within moments of its creation, so one an hour old has no writer."""
        limit = time.time() - _STALE_SECONDS
        for entry in os.scandir(self.path):
            if entry.name.startswith(_TMP_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    if entry.stat().st_mtime < limit:
                        os.unlink(entry.path)

    def _claim_file(self, path: Path) -> Batch | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in _PASSING:
                logger.warning("pgmetrics: spool file %s not claimed now: %s", path, exc)
                return None
            self._set_aside(path, exc)  # unreadable: no process can deliver it
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None  # another process is delivering it
        try:
            # Delivered and unlinked by another process between our open and our lock?
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                os.close(fd)
                return None
        except FileNotFoundError:
            os.close(fd)
            return None
        try:
            batch = self._read(fd, path)
        except Exception as exc:  # whatever the file holds, the other files are claimed
            # Renamed while held, so that no other process reads it meanwhile.
            self._set_aside(path, exc)
            os.close(fd)
            return None
        with self._lock:
            self._claims[batch.batch_id] = fd
        return batch

    def _set_aside(self, path: Path, exc: BaseException) -> None:
        """Renames a file that is not a batch to ``<name>.bad``: later claims skip it without
        reading it, and it stays for the operator to inspect. Logged once per file."""
        aside = path.with_name(path.name + BAD_SUFFIX)
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return
        except OSError as rename_error:
            # Left in place: log it once in this process rather than at every claim.
            if path not in self._unmovable:
                self._unmovable.add(path)
                logger.error(  # noqa: TRY400
                    "pgmetrics: spool file %s is not a batch (%s) and cannot be moved aside: %s",
                    path,
                    exc,
                    rename_error,
                )
            return
        logger.error(
            "pgmetrics: spool file %s is not a batch, moved aside to %s: %s", path, aside, exc
        )

    def _read(self, fd: int, path: Path) -> Batch:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        with open(fd, "rb", closefd=False) as file:
            batch = decode(file.read())
        if self._file(batch.batch_id) != path:
            raise ValueError("its name is not its batch id")
        return batch

    def release(self, batch_id: uuid.UUID) -> None:
        """The batch is delivered (or its cells live on in other batches): its file goes."""
        with self._lock:
            fd = self._claims.pop(batch_id, None)
        if fd is None:
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                self._file(batch_id).unlink()
        finally:
            os.close(fd)
