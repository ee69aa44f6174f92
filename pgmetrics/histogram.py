"""The mergeable duration sketch: a log-bucket histogram with 1 % relative accuracy.

This is the Python half of docs/HISTOGRAM.md; the SQL half is ``pgmetrics._histogram_*``.
Both compute the same bucket index for every double, bit for bit: the index is defined by
comparisons against boundaries built from IEEE multiplications only, and the logarithm is
only a shortcut whose result is kept when it cannot be wrong (see ``bucket_index``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

__all__ = [
    "ALPHA",
    "GAMMA",
    "KEY_SHIFT",
    "MAX_ELEMENT_COUNT",
    "Histogram",
    "bucket_index",
    "bucket_value",
    "pack",
    "unpack",
]

ALPHA = 0.01
GAMMA = 1.01 / 0.99
"""The bucket ratio g, as the IEEE quotient of the doubles 1.01 and 0.99."""

_GAMMA_INVERSE = 0.99 / 1.01
LN_GAMMA = 0.020000666706669435
"""ln(GAMMA) rounded to the nearest double (the same literal is in the SQL)."""
_LN_MIDPOINT = -0.010050335853501395
"""ln(2 / (GAMMA + 1)) rounded to the nearest double: a bucket's value is g^i * 2 / (g + 1)."""
_LN_MAX = 709.782712893384
_LN_MIN_NORMAL = -708.3964185322641
_WINDOW = 1e-6
"""Half-width, in buckets, of the band around an integer where the logarithm is not trusted."""

KEY_SHIFT = 15
"""A packed element is key * 2**15 + count, a 32-bit integer: sorted elements are sorted keys."""
MAX_ELEMENT_COUNT = (1 << KEY_SHIFT) - 1
"""An element counts at most this many durations; a larger count takes several elements."""
_COUNT_MASK = MAX_ELEMENT_COUNT


def _mul(am: float, ae: int, bm: float, be: int) -> tuple[float, int]:
    """(am * 2**ae) * (bm * 2**be) with mantissas in [1, 2): one rounding, then exact scaling."""
    m = am * bm
    if m >= 2.0:
        return m * 0.5, ae + be + 1
    return m, ae + be


def boundary(n: int) -> tuple[float, int]:
    """The upper boundary B(n) of bucket n, as (mantissa in [1, 2), binary exponent).

    B(n) approximates g**n by binary exponentiation, right to left, of GAMMA (n >= 0) or of
    2 * (0.99 / 1.01) with exponent -1 (n < 0); every product is one IEEE multiplication
    renormalised by an exact halving, so every platform computes the same pair.
    """
    if n >= 0:
        sm, se = GAMMA, 0
    else:
        sm, se = 2.0 * _GAMMA_INVERSE, -1
    rm, re = 1.0, 0
    k = abs(n)
    while k:
        if k & 1:
            rm, re = _mul(rm, re, sm, se)
        k >>= 1
        if k:
            sm, se = _mul(sm, se, sm, se)
    return rm, re


def _at_most_boundary(value: float, n: int) -> bool:
    """value <= B(n), exactly."""
    fraction, exponent = math.frexp(value)
    vm, ve = fraction * 2.0, exponent - 1
    bm, be = boundary(n)
    return ve < be or (ve == be and vm <= bm)


def bucket_index(value: float) -> int:
    """The bucket of a duration value > 0: the least n with value <= B(n).

    ln(value) / ln(g) is within 1e-9 of log_g(value) and B(n) within 1e-9 buckets of g**n, so
    outside a band of 1e-6 around an integer its ceiling is that least n; inside the band the
    answer is the nearest integer or the next one, decided by one exact comparison.
    """
    if not value > 0.0 or value == math.inf:
        raise ValueError(f"value must be finite and > 0, got {value!r}")
    x = math.log(value) / LN_GAMMA
    n = math.ceil(x)
    if n - x > _WINDOW and x - (n - 1) > _WINDOW:
        return n
    n = round(x)
    return n if _at_most_boundary(value, n) else n + 1


def bucket_value(index: int) -> float:
    """The value reported for a bucket: 2 * g**index / (g + 1), relative error <= ALPHA.

    Computed as exp(index * ln g + ln(2 / (g + 1))); below the smallest normal double the
    exponent is held at ln(2.2250738585072014e-308) and above the largest at ln(max), and the
    quantile clamps the result to the exact minimum and maximum anyway.
    """
    exponent = index * LN_GAMMA + _LN_MIDPOINT
    if exponent >= _LN_MAX:
        return 1.7976931348623157e308
    return math.exp(max(exponent, _LN_MIN_NORMAL))


def pack(key: int, count: int) -> int:
    """One element of the SQL form: key * 2**15 + count, 1 <= count <= 32767."""
    if not 0 < count <= MAX_ELEMENT_COUNT:
        raise ValueError(f"count must be 1 to {MAX_ELEMENT_COUNT}, got {count}")
    return (key << KEY_SHIFT) | count


def unpack(element: int) -> tuple[int, int]:
    """(key, count) of one element of the SQL form."""
    return element >> KEY_SHIFT, element & _COUNT_MASK


def _check_q(q: float) -> None:
    if not 0.0 <= q <= 1.0:  # also rejects NaN
        raise ValueError(f"q must be between 0 and 1, got {q!r}")


class Histogram:
    """Sparse bucket counts (index -> count) plus the count of zero durations."""

    __slots__ = ("_last_index", "_last_value", "counts", "zero_count")

    def __init__(self, counts: Mapping[int, int] | None = None, zero_count: int = 0) -> None:
        self.counts: dict[int, int] = dict(counts) if counts else {}
        self.zero_count = zero_count
        self._last_value = 0.0
        self._last_index = 0

    @classmethod
    def of(cls, values: Iterable[float]) -> Histogram:
        histogram = cls()
        for value in values:
            histogram.add(value)
        return histogram

    def add(self, value: float) -> None:
        """Counts one duration value >= 0 (ms); ValueError for NaN, infinite or negative."""
        if value == self._last_value and value > 0.0:
            index = self._last_index
        elif value > 0.0:
            index = bucket_index(value)
            self._last_value = value
            self._last_index = index
        elif value == 0.0:
            self.zero_count += 1
            return
        else:
            raise ValueError(f"value must be finite and >= 0, got {value!r}")
        counts = self.counts
        counts[index] = counts.get(index, 0) + 1

    def merge(self, other: Histogram) -> None:
        """Adds the counts of other into this histogram."""
        counts = self.counts
        for index, count in other.counts.items():
            counts[index] = counts.get(index, 0) + count
        self.zero_count += other.zero_count

    @property
    def total(self) -> int:
        return self.zero_count + sum(self.counts.values())

    def quantile(
        self, q: float, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        """Nearest-rank quantile (rank max(1, ceil(q * n))), zero bucket first.

        None for an empty histogram; minimum for q = 0 and maximum for q = 1 when known; other
        values are bucket values clamped to [minimum, maximum]. ValueError for q outside [0, 1].
        """
        _check_q(q)
        n = self.total
        if n == 0:
            return None
        if q == 0.0 and minimum is not None:
            return minimum
        if q == 1.0 and maximum is not None:
            return maximum
        rank = max(1, math.ceil(q * n))
        if rank <= self.zero_count:
            value = 0.0
        else:
            seen = self.zero_count
            value = 0.0
            for index in sorted(self.counts):
                seen += self.counts[index]
                if seen >= rank:
                    value = bucket_value(index)
                    break
        if minimum is not None:
            value = max(value, minimum)
        if maximum is not None:
            value = min(value, maximum)
        return value

    def to_sql(self) -> list[int]:
        """The histogram argument of the SQL functions: packed elements in ascending order, a
        count above 32767 split over several elements of its bucket, the remainder first."""
        elements = []
        for index in sorted(self.counts):
            full, rest = divmod(self.counts[index], MAX_ELEMENT_COUNT)
            if rest:
                elements.append(pack(index, rest))
            elements.extend([pack(index, MAX_ELEMENT_COUNT)] * full)
        return elements

    @classmethod
    def from_sql(cls, packed: Iterable[int] | None, zero_count: int = 0) -> Histogram:
        """The inverse of to_sql (repeated keys add up); None is the empty histogram."""
        histogram = cls(zero_count=zero_count)
        counts = histogram.counts
        for element in packed or ():
            index, count = unpack(element)
            counts[index] = counts.get(index, 0) + count
        return histogram

    def to_json(self) -> dict[str, object]:
        """A JSON object for jsonb: {"histogram": [packed elements], "zero_count": n}."""
        return {"histogram": self.to_sql(), "zero_count": self.zero_count}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Histogram:
        packed = data.get("histogram") or []
        zero_count = data.get("zero_count") or 0
        if not isinstance(packed, list) or not isinstance(zero_count, int):
            raise TypeError("expected {'histogram': [int, ...], 'zero_count': int}")
        return cls.from_sql([int(element) for element in packed], zero_count)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return self.counts == other.counts and self.zero_count == other.zero_count

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Histogram(buckets={len(self.counts)}, zero_count={self.zero_count})"
