"""The cell: what memory holds of one key in one UTC hour, how cells merge, and their JSON form
in the cell format of ``pgmetrics.ingest_batch``.

"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeVar

from pgmetrics.histogram import Histogram
from pgmetrics.times import from_timestamp, hour_start

# The key that events past the cap on distinct keys count under.
OVERFLOW = "__overflow__"


@dataclass(slots=True)
class Cell:
    """The events of one key in one UTC hour. Slotted: the record path reads and writes these
    fields as fast as list items, and a cell costs less memory than a dict-backed object."""

    total: int = 0
    successful: int = 0  # failed is total - successful
    sum_ms: float = 0.0
    min_ms: float = math.inf
    max_ms: float = 0.0
    last_time: float = -math.inf  # seconds since the epoch
    histogram: Histogram = field(default_factory=Histogram)  # zeros in its zero_count

    @property
    def failed(self) -> int:
        return self.total - self.successful


RouteKey = tuple[str, str, int]
OperationKey = tuple[str, int]
RouteCells = dict[RouteKey, Cell]
OperationCells = dict[OperationKey, Cell]
K = TypeVar("K")


def merge_cell(into: Cell, cell: Cell) -> None:
    into.total += cell.total
    into.successful += cell.successful
    into.sum_ms += cell.sum_ms
    if cell.min_ms < into.min_ms:
        into.min_ms = cell.min_ms
    if cell.max_ms > into.max_ms:
        into.max_ms = cell.max_ms
    if cell.last_time > into.last_time:
        into.last_time = cell.last_time
    into.histogram.merge(cell.histogram)


def copy_cell(cell: Cell) -> Cell:
    """A copy that shares nothing mutable with ``cell``."""
    histogram = cell.histogram
    return Cell(
        cell.total,
        cell.successful,
        cell.sum_ms,
        cell.min_ms,
        cell.max_ms,
        cell.last_time,
        Histogram(histogram.counts, histogram.zero_count),
    )


def merge_cells(into: dict[K, Cell], cells: dict[K, Cell], *, copy: bool = False) -> None:
    """Adds ``cells`` into ``into``; ``copy=False`` hands the cells themselves over to ``into``."""
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
    total, successful = int(cell.total), int(cell.successful)
    return {
        "n": total,
        "s": successful,
        "f": total - successful,
        "d": cell.sum_ms,
        "lo": cell.min_ms,
        "hi": cell.max_ms,
        "t": from_timestamp(cell.last_time).isoformat(),
        **cell.histogram.to_json(),
    }
