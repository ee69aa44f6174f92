"""SQL and Python put every duration in the same histogram bucket, bit for bit."""

from __future__ import annotations

import math
import random
import sys
from fractions import Fraction

import pytest

from pgmetrics.histogram import GAMMA, LN_GAMMA, boundary, bucket_index
from tests.conftest import Database

_BUCKETS = (
    "SELECT pgmetrics._histogram_bucket(t.v) FROM unnest(%s::float8[]) WITH ORDINALITY AS t(v, i) "
    "ORDER BY t.i"
)
_POWERS = (
    "SELECT pg_catalog.power(1.01::float8 / 0.99::float8, k::float8) "
    "FROM generate_series(%s::int, %s::int) AS k "
    "WHERE abs(k * ln(1.01::float8 / 0.99::float8)) < 708 AND mod(k, 5) = 0"
)


def _neighbours(values: list[float]) -> list[float]:
    out: list[float] = []
    for value in values:
        out.extend((value, math.nextafter(value, 0.0), math.nextafter(value, math.inf)))
    return [v for v in out if 0.0 < v < math.inf]


def _from_boundary(n: int) -> float | None:
    """B(n) as a double when it is one (the exact boundary values)."""
    mantissa, exponent = boundary(n)
    try:
        value = math.ldexp(mantissa, exponent)
    except OverflowError:
        return None
    return value if value > 0.0 and Fraction(value) == Fraction(mantissa) * 2**exponent else None


def _values(sql_powers: list[float]) -> list[float]:
    rng = random.Random(20261129)
    values: list[float] = []
    values += [rng.lognormvariate(math.log(5.0), 1.0) for _ in range(20_000)]
    values += [rng.lognormvariate(math.log(800.0), 1.5) for _ in range(10_000)]
    values += [rng.uniform(0.0, 60_000.0) or 1.0 for _ in range(5_000)]
    python_powers = [GAMMA**k for k in range(-3000, 3001)]
    boundaries = [b for n in range(-37_300, 35_500, 7) if (b := _from_boundary(n)) is not None]
    values += _neighbours(python_powers)
    values += _neighbours(sql_powers)
    values += _neighbours(boundaries)
    tiny = 2.2250738585072014e-308
    subnormals = [5e-324 * k for k in range(1, 200)] + [tiny, tiny * 0.5, tiny * 0.999]
    subnormals += [rng.uniform(5e-324, tiny) for _ in range(1_000)]
    values += _neighbours(subnormals)
    huge = [1e308, sys.float_info.max, 1e307, 1.7e308, 1.2e308]
    values += _neighbours(huge)
    values += [float(k) for k in range(1, 10_001)]
    return values


@pytest.mark.slow
def test_sql_and_python_bucket_indexes_agree(db: Database) -> None:
    with db.connect() as conn:
        sql_powers = [float(str(r[0])) for r in conn.execute(_POWERS, (-40_000, 40_000))]
        values = _values(sql_powers)
        assert len(values) >= 100_000
        expected = [bucket_index(v) for v in values]
        got: list[int] = []
        step = 40_000
        for start in range(0, len(values), step):
            chunk = values[start : start + step]
            got.extend(int(str(row[0])) for row in conn.execute(_BUCKETS, (chunk,)))
    mismatches = [(v, e, g) for v, e, g in zip(values, expected, got, strict=True) if e != g]
    assert mismatches == []


def test_index_is_the_least_boundary_at_or_above_the_value() -> None:
    """The logarithmic shortcut returns the defined index: B(i - 1) < v <= B(i)."""

    def at_most(value: float, n: int) -> bool:
        mantissa, exponent = boundary(n)
        return Fraction(value) <= Fraction(mantissa) * Fraction(2) ** exponent

    rng = random.Random(7)
    values = [rng.lognormvariate(0.0, 3.0) for _ in range(2_000)]
    values += _neighbours([GAMMA**k for k in range(-300, 300)])
    values += [5e-324, 1e-320, 2.2250738585072014e-308, 1e308, sys.float_info.max, 1.0]
    for value in values:
        index = bucket_index(value)
        assert at_most(value, index), value
        assert not at_most(value, index - 1), value


def test_boundaries_are_close_to_powers_of_gamma() -> None:
    for n in (1, 2, 1000, 4095, -1, -1000, -4095):
        mantissa, exponent = boundary(n)
        exact = Fraction(GAMMA) ** n
        relative = abs(Fraction(mantissa) * Fraction(2) ** exponent - exact) / exact
        assert relative < Fraction(1, 10**10), n
    # Far out, in logarithms: B(n) stays within 1e-9 buckets of g**n (the shortcut needs 1e-6).
    for n in range(-37_220, 35_489, 997):
        mantissa, exponent = boundary(n)
        log_boundary = math.log(mantissa) + exponent * math.log(2.0)
        assert abs(log_boundary / LN_GAMMA - n) < 1e-8, n


def test_bucket_holds_the_half_open_interval() -> None:
    assert bucket_index(1.0) == 0
    assert bucket_index(math.nextafter(1.0, 2.0)) == 1
    assert bucket_index(GAMMA) == 1
    assert bucket_index(5e-324) == -37_220
    assert bucket_index(sys.float_info.max) == 35_488
