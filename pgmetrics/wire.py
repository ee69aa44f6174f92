"""The binary form of ``pgmetrics.ingest_batch``'s typed cells (docs/WIRE.md).

A batch goes to the server as two arrays of the composite types ``pgmetrics.route_cell`` and
``pgmetrics.operation_cell`` in PostgreSQL's binary array format, built here with ``struct`` and
``array``: the server reads each histogram with ``array_recv`` instead of parsing text, and the
client spends a few microseconds a cell instead of dumping every element through Python. The
parameter goes with no type of its own; the cast in the query gives it, and the array names the
composite's oid, which the caller looks up in the same transaction.
"""

from __future__ import annotations

import struct
import sys
from array import array

from psycopg.adapt import Dumper
from psycopg.pq import Format

from pgmetrics.cells import Cell, OperationCells, RouteCells

_TEXT = 25
_INT8 = 20
_FLOAT8 = 701
_TIMESTAMPTZ = 1184
_INT4 = 23
_INT4_ARRAY = 1007
# Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
_PG_EPOCH_US = 946_684_800_000_000
_HOUR_US = 3_600_000_000

_array_header = struct.Struct("!iiIii")
_empty_int4_array = struct.pack("!iiI", 0, 0, _INT4)
_field = struct.Struct("!Ii")
_cell_numbers = struct.Struct("!IiqIiqIiqIidIidIidIiqIiq")
_swap = sys.byteorder == "little"


class CellArray:
    """The binary array of one kind of cell, ready to send as a parameter of unknown type."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class CellArrayDumper(Dumper):
    format = Format.BINARY
    oid = 0  # unknown: the server takes the type from the query's cast

    def dump(self, obj: CellArray) -> bytes:
        return obj.data


def _int4_array(elements: list[int]) -> bytes:
    if not elements:
        return _empty_int4_array
    # Each element is its length (4) then its value, both big-endian int4.
    words = array("i", (4,)) * (2 * len(elements))
    words[1::2] = array("i", elements)
    if _swap:
        words.byteswap()
    return _array_header.pack(1, 0, _INT4, len(elements), 1) + words.tobytes()


def _text(value: str) -> bytes:
    encoded = value.encode("utf-8")
    return _field.pack(_TEXT, len(encoded)) + encoded


def _numbers_and_histogram(hour: int, cell: Cell) -> bytes:
    """The fields from period_start to duration_histogram, the same in both composite types."""
    histogram = _int4_array(cell.histogram.to_sql())
    return _cell_numbers.pack(
        _TIMESTAMPTZ, 8, hour * _HOUR_US - _PG_EPOCH_US,
        _INT8, 8, int(cell.total),
        _INT8, 8, int(cell.successful),
        _FLOAT8, 8, cell.sum_ms,
        _FLOAT8, 8, cell.min_ms,
        _FLOAT8, 8, cell.max_ms,
        _TIMESTAMPTZ, 8, round(cell.last_time * 1_000_000) - _PG_EPOCH_US,
        _INT8, 8, cell.histogram.zero_count,
    ) + _field.pack(_INT4_ARRAY, len(histogram)) + histogram  # fmt: skip


def _record(fields: int, parts: list[bytes]) -> bytes:
    body = b"".join(parts)
    return struct.pack("!ii", 4 + len(body), fields) + body


def _cell_array(oid: int, records: list[bytes]) -> CellArray | None:
    if not records:
        return None
    return CellArray(_array_header.pack(1, 0, oid, len(records), 1) + b"".join(records))


def route_cell_array(cells: RouteCells, oid: int) -> CellArray | None:
    """``cells`` as a binary ``pgmetrics.route_cell[]`` (``oid`` is the composite's), or None."""
    return _cell_array(
        oid,
        [
            _record(11, [_text(route), _text(method), _numbers_and_histogram(hour, cell)])
            for (route, method, hour), cell in cells.items()
        ],
    )


def operation_cell_array(cells: OperationCells, oid: int) -> CellArray | None:
    """``cells`` as a binary ``pgmetrics.operation_cell[]``, or None when there are none."""
    return _cell_array(
        oid,
        [
            _record(10, [_text(operation), _numbers_and_histogram(hour, cell)])
            for (operation, hour), cell in cells.items()
        ],
    )
