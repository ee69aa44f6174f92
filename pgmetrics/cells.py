"""The cell: what memory holds of one key in one UTC hour, how cells merge, and their JSON form
in the cell format of ``pgmetrics.ingest_batch``.

A cell is a list ``[total, successful, sum_ms, min_ms, max_ms, last_time, histogram]``, times in
seconds since the epoch, ``histogram`` the ``Histogram`` of the durations (zeros in its
``zero_count``); ``failed`` is ``total - successful``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pgmetrics.histogram import Histogram
from pgmetrics.times import from_timestamp, hour_start

# The key that events past the cap on distinct keys count under.
OVERFLOW = "__overflow__"

Cell = list[Any]
RouteKey = tuple[str, str, int]
OperationKey = tuple[str, int]
RouteCells = dict[RouteKey, Cell]
OperationCells = dict[OperationKey, Cell]
K = TypeVar("K")


def merge_cell(into: Cell, cell: Cell) -> None:
    into[0] += cell[0]
    into[1] += cell[1]
    into[2] += cell[2]
    if cell[3] < into[3]:
        into[3] = cell[3]
    if cell[4] > into[4]:
        into[4] = cell[4]
    if cell[5] > into[5]:
        into[5] = cell[5]
    into[6].merge(cell[6])


def copy_cell(cell: Cell) -> Cell:
    """A copy that shares nothing mutable with ``cell``."""
    histogram: Histogram = cell[6]
    return [*cell[:6], Histogram(histogram.counts, histogram.zero_count)]


def merge_cells(into: dict[K, Cell], cells: dict[K, Cell], *, copy: bool = False) -> None:
    """Adds ``cells`` into ``into``; ``copy=False`` hands the cell lists over to ``into``."""
    for key, cell in cells.items():
        target = into.get(key)
        if target is None:
            into[key] = copy_cell(cell) if copy else cell
        else:
            merge_cell(target, cell)


def route_cells_json(cells: RouteCells) -> list[dict[str, object]]:
    """Route cells in the cell format of pgmetrics.ingest_batch."""
    return [
        {"r": route, "m": method, "h": hour_start(hour).isoformat(), **_cell_json(cell)}
        for (route, method, hour), cell in cells.items()
    ]


def operation_cells_json(cells: OperationCells) -> list[dict[str, object]]:
    """Operation cells in the cell format of pgmetrics.ingest_batch."""
    return [
        {"o": operation, "h": hour_start(hour).isoformat(), **_cell_json(cell)}
        for (operation, hour), cell in cells.items()
    ]


def _cell_json(cell: Cell) -> dict[str, object]:
    total, successful = int(cell[0]), int(cell[1])
    return {
        "n": total,
        "s": successful,
        "f": total - successful,
        "d": cell[2],
        "lo": cell[3],
        "hi": cell[4],
        "t": from_timestamp(cell[5]).isoformat(),
        **cell[6].to_json(),
    }
