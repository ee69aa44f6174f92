"""Quantiles read from the histogram, in Python and through the SQL functions, and merging."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgmetrics.histogram import Histogram, bucket_index, pack, unpack
from tests.conftest import Database

QUANTILES = (0.0, 0.5, 0.95, 0.99, 1.0)
HOURS = 24

# A throwaway aggregate folding values with _histogram_add: how a recording upsert grows a row.
_BUILD_AGGREGATE = """
CREATE AGGREGATE pg_temp.build_histogram(double precision) (
    SFUNC = pgmetrics._histogram_add, STYPE = int[], INITCOND = '{}'
)
"""
_HOURS = """
CREATE TEMP TABLE hours AS
SELECT t.hour,
       pg_temp.build_histogram(t.v ORDER BY t.i) AS histogram,
       count(*) FILTER (WHERE t.v = 0) AS zero_count,
       min(t.v) AS min_ms, max(t.v) AS max_ms
FROM unnest(%s::float8[], %s::int[]) WITH ORDINALITY AS t(v, hour, i)
GROUP BY t.hour
"""
_DAY_QUANTILES = """
SELECT q, pgmetrics._histogram_quantile(d.histogram, d.zero_count, q, d.min_ms, d.max_ms),
       d.histogram
FROM (SELECT pgmetrics._histogram_merge_agg(histogram) AS histogram,
             sum(zero_count)::bigint AS zero_count, min(min_ms) AS min_ms, max(max_ms) AS max_ms
      FROM hours) AS d,
     unnest(%s::float8[]) AS q
"""


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _lognormal(median: float, sigma: float) -> Callable[[random.Random], float]:
    return lambda rng: rng.lognormvariate(math.log(median), sigma)


def _bimodal(rng: random.Random) -> float:
    return rng.lognormvariate(math.log(4.0), 0.3) if rng.random() < 0.8 else rng.gauss(300.0, 20.0)


DISTRIBUTIONS: dict[str, Callable[[random.Random], float]] = {
    "lognormal_fast": _lognormal(5.0, 0.6),
    "lognormal_slow": _lognormal(800.0, 0.8),
    "bimodal": _bimodal,
    "constant": lambda _rng: 42.5,
    "zeros": lambda _rng: 0.0,
    "mostly_zeros": lambda rng: 0.0 if rng.random() < 0.7 else rng.expovariate(0.1),
}


def _sample(name: str, n: int = 4_800) -> list[float]:
    rng = random.Random(name)
    return [DISTRIBUTIONS[name](rng) for _ in range(n)]


def _assert_close(estimate: float | None, exact: float, q: float, values: list[float]) -> None:
    assert estimate is not None
    if q == 0.0:
        assert estimate == min(values)
    elif q == 1.0:
        assert estimate == max(values)
    elif exact == 0.0:
        assert estimate == 0.0
    else:
        assert abs(estimate - exact) / exact <= 0.02, (q, estimate, exact)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_python_quantiles_are_within_two_percent(name: str) -> None:
    values = _sample(name)
    histogram = Histogram.of(values)
    assert histogram.total == len(values)
    for q in QUANTILES:
        estimate = histogram.quantile(q, min(values), max(values))
        _assert_close(estimate, _exact(values, q), q, values)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_python_day_of_merged_hours_keeps_the_accuracy(name: str) -> None:
    values = _sample(name)
    day = Histogram()
    for hour in range(HOURS):
        day.merge(Histogram.of(values[hour::HOURS]))
    assert day == Histogram.of(values)
    for q in QUANTILES:
        _assert_close(day.quantile(q, min(values), max(values)), _exact(values, q), q, values)


def test_sql_hours_merged_into_a_day(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(_BUILD_AGGREGATE)
        for name in sorted(DISTRIBUTIONS):
            values = _sample(name)
            hours = [i % HOURS for i in range(len(values))]
            conn.execute("DROP TABLE IF EXISTS hours")
            conn.execute(_HOURS, (values, hours))
            rows = conn.execute(
                "SELECT hour, histogram, zero_count FROM hours ORDER BY hour"
            ).fetchall()
            for hour, histogram, zero_count in rows:
                expected = Histogram.of(values[int(str(hour)) :: HOURS])
                assert histogram == expected.to_sql(), name
                assert zero_count == expected.zero_count, name
            python_day = Histogram.of(values)
            for q, estimate, day in conn.execute(_DAY_QUANTILES, (list(QUANTILES),)):
                assert day == python_day.to_sql(), name
                assert isinstance(q, float)
                assert isinstance(estimate, float)
                _assert_close(estimate, _exact(values, q), q, values)
                python = python_day.quantile(q, min(values), max(values))
                assert python == pytest.approx(estimate, rel=1e-12), (name, q)


def test_python_quantile_edges() -> None:
    assert Histogram().quantile(0.5) is None
    assert Histogram.of([0.0, -0.0]).quantile(0.5) == 0.0
    histogram = Histogram.of([1.0, 2.0, 3.0])
    assert histogram.quantile(0.0, 1.0, 3.0) == 1.0
    assert histogram.quantile(1.0, 1.0, 3.0) == 3.0
    assert histogram.quantile(0.5, 1.0, 3.0) == pytest.approx(2.0, rel=0.01)
    for bad in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError, match="q"):
            histogram.quantile(bad)
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="value"):
            histogram.add(bad)


def test_python_sql_and_json_forms_round_trip() -> None:
    histogram = Histogram.of([0.0, 5e-324, 1.0, 1.0, 3.5, 1e308])
    packed = histogram.to_sql()
    assert packed == sorted(packed)
    assert [unpack(e) for e in packed][1] == (0, 2)
    assert Histogram.from_sql(packed, histogram.zero_count) == histogram
    assert Histogram.from_json(histogram.to_json()) == histogram
    assert unpack(pack(-37_220, 1)) == (-37_220, 1)
    assert unpack(pack(35_488, 32_767)) == (35_488, 32_767)
    assert -(2**31) <= pack(-37_220, 1) < pack(35_488, 32_767) < 2**31
    with pytest.raises(ValueError, match="count"):
        pack(1, 32_768)
    # A count above 32767 takes several elements of its bucket, the remainder first.
    big = Histogram({-1: 1, 0: 70_000, 1: 32_767})
    assert big.to_sql() == [
        pack(-1, 1),
        pack(0, 4_466),
        pack(0, 32_767),
        pack(0, 32_767),
        pack(1, 32_767),
    ]
    assert big.to_sql() == sorted(big.to_sql())
    assert Histogram.from_sql(big.to_sql()) == big
    assert bucket_index(1.0) == 0


_durations = st.one_of(
    st.floats(min_value=0.0, max_value=1e308, allow_nan=False, allow_infinity=False),
    st.floats(min_value=0.001, max_value=60_000.0),
    st.sampled_from([0.0, -0.0, 5e-324, 1.0, 1.7976931348623157e308]),
)
_value_lists = st.lists(_durations, max_size=60)


@settings(max_examples=200, deadline=None)
@given(_value_lists, _value_lists)
def test_python_merge_equals_histogram_of_union(a: list[float], b: list[float]) -> None:
    merged = Histogram.of(a)
    merged.merge(Histogram.of(b))
    assert merged == Histogram.of(a + b)


@pytest.mark.slow
def test_sql_merge_equals_histogram_of_union(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(_BUILD_AGGREGATE)

        @settings(max_examples=60, deadline=None)
        @given(_value_lists, _value_lists)
        def check(a: list[float], b: list[float]) -> None:
            _check_sql_merge(conn, a, b)

        check()


def _check_sql_merge(
    conn: psycopg.Connection[tuple[object, ...]], a: list[float], b: list[float]
) -> None:
    row = conn.execute(
        """
        SELECT pgmetrics._histogram_merge(
                   (SELECT pg_temp.build_histogram(v) FROM unnest(%(a)s::float8[]) AS v),
                   (SELECT pg_temp.build_histogram(v) FROM unnest(%(b)s::float8[]) AS v)),
               (SELECT pg_temp.build_histogram(v)
                FROM unnest(%(a)s::float8[] || %(b)s::float8[]) AS v),
               (SELECT pgmetrics._histogram_merge_agg(h)
                FROM (VALUES (%(ha)s::int[]), (%(hb)s::int[])) AS t(h))
        """,
        {"a": a, "b": b, "ha": Histogram.of(a).to_sql(), "hb": Histogram.of(b).to_sql()},
    ).fetchone()
    assert row is not None
    expected = Histogram.of(a + b).to_sql()
    assert row[0] == row[1] == row[2] == expected


@pytest.mark.slow
def test_sql_merge_aggregate_in_parallel_equals_serial(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(
            "CREATE TABLE par AS SELECT ARRAY[(mod(g, 300) << 15) | 1,"
            " ((mod(g, 7) + 1000) << 15) | 2] AS h FROM generate_series(1, 100000) AS g"
        )
        conn.execute("ANALYZE par")
        for setting in (
            "SET parallel_setup_cost = 0",
            "SET parallel_tuple_cost = 0",
            "SET min_parallel_table_scan_size = 0",
            "SET max_parallel_workers_per_gather = 2",
        ):
            conn.execute(setting)
        query = "SELECT pgmetrics._histogram_merge_agg(h) FROM par"
        plan = "\n".join(str(r[0]) for r in conn.execute("EXPLAIN (COSTS OFF) " + query))
        assert "Partial Aggregate" in plan
        parallel = conn.execute(query).fetchone()
        conn.execute("SET max_parallel_workers_per_gather = 0")
        serial = conn.execute(query).fetchone()
    assert parallel is not None
    assert parallel == serial
    assert Histogram.from_sql(parallel[0]).total == 100_000 * 3  # type: ignore[arg-type]
