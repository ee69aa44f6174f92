"""Storage form of the duration histogram: bytes per hourly row and merge speed, in PostgreSQL.

Candidates, each in a copy of the hourly route table with the histogram columns added:
  packed   one int[] of bucket * 2^15 + count, ascending (the chosen form), plus zero_count
  arrays   two parallel arrays hist_keys int[] and hist_counts bigint[], plus zero_count
  jsonb    one jsonb object {"key": count}, plus zero_count

Rows hold lognormal latencies, 1,000 requests an hour. PostgreSQL compresses a row only past
about 2 kB (TOAST_TUPLE_THRESHOLD; toast_tuple_target does not lower it), so the histogram's
own size decides the row's. Merges: 24 hourly rows into one day, and 2,000 keys x 7 days
into 14,000 day buckets. Also: plpgsql against LANGUAGE sql for the hot functions, and the
cost of Histogram.add() in Python. Figures are printed and appended to bench/RESULTS.md
(unless --no-record).

With the tiers (docs/TIERS.md) this measures the same as before: it builds its own candidate
tables and calls only the histogram functions, which the tiers did not change. The candidates
leave out the hourly table's duration_quantiles (p50/p95/p99, a float8[3] of about 50 bytes that
fold_events now writes with each row), alike for every form; bench.storage measures the hourly
table itself. The day merges are the work fold_events now does once per rollup row, and the
summaries do at read time only for buckets that no stored row holds.
"""

from __future__ import annotations

import argparse
import math
import random
import time
import timeit

import psycopg

from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy
from pgmetrics.histogram import Histogram, bucket_index

POOL = 240
DROP_TABLES = "DROP TABLE IF EXISTS b_packed, b_arrays, b_jsonb"

_TABLE_COLUMNS = """
    route text NOT NULL, method text NOT NULL, period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL, total_requests bigint NOT NULL, successful bigint NOT NULL,
    failed bigint NOT NULL, total_duration_ms float8 NOT NULL, min_duration_ms float8 NOT NULL,
    max_duration_ms float8 NOT NULL, last_request_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    zero_count bigint NOT NULL,
"""
CREATE = {
    "packed": "CREATE TABLE b_packed (" + _TABLE_COLUMNS + " histogram int[] NOT NULL,"
    " PRIMARY KEY (route, method, period_start))",
    "arrays": "CREATE TABLE b_arrays (" + _TABLE_COLUMNS + " hist_keys int[] NOT NULL,"
    " hist_counts bigint[] NOT NULL, PRIMARY KEY (route, method, period_start))",
    "jsonb": "CREATE TABLE b_jsonb (" + _TABLE_COLUMNS + " histogram jsonb NOT NULL,"
    " PRIMARY KEY (route, method, period_start))",
}
# Literal statements per form (no SQL is assembled from values): the pool row is chosen by id.
INSERTS = {
    "packed": """
        INSERT INTO b_packed (route, method, period_start, period_end, total_requests, successful,
            failed, total_duration_ms, min_duration_ms, max_duration_ms, last_request_at,
            zero_count, histogram)
        SELECT '/api/v1/items/{id}/key' || k, 'GET', s, s + interval '1 hour', p.n, p.n, 0,
               p.total, p.min_ms, p.max_ms, s + interval '59 minutes', p.zero_count, p.packed
        FROM generate_series(1, %(keys)s) AS k, generate_series(0, %(hours)s - 1) AS i,
             LATERAL (SELECT timestamptz '2026-11-01' + i * interval '1 hour' AS s) AS t,
             LATERAL (SELECT * FROM pool WHERE id = (k * 7 + i) %% 240) AS p
    """,
    "arrays": """
        INSERT INTO b_arrays (route, method, period_start, period_end, total_requests, successful,
            failed, total_duration_ms, min_duration_ms, max_duration_ms, last_request_at,
            zero_count, hist_keys, hist_counts)
        SELECT '/api/v1/items/{id}/key' || k, 'GET', s, s + interval '1 hour', p.n, p.n, 0,
               p.total, p.min_ms, p.max_ms, s + interval '59 minutes', p.zero_count, p.keys,
               p.counts
        FROM generate_series(1, %(keys)s) AS k, generate_series(0, %(hours)s - 1) AS i,
             LATERAL (SELECT timestamptz '2026-11-01' + i * interval '1 hour' AS s) AS t,
             LATERAL (SELECT * FROM pool WHERE id = (k * 7 + i) %% 240) AS p
    """,
    "jsonb": """
        INSERT INTO b_jsonb (route, method, period_start, period_end, total_requests, successful,
            failed, total_duration_ms, min_duration_ms, max_duration_ms, last_request_at,
            zero_count, histogram)
        SELECT '/api/v1/items/{id}/key' || k, 'GET', s, s + interval '1 hour', p.n, p.n, 0,
               p.total, p.min_ms, p.max_ms, s + interval '59 minutes', p.zero_count, p.json
        FROM generate_series(1, %(keys)s) AS k, generate_series(0, %(hours)s - 1) AS i,
             LATERAL (SELECT timestamptz '2026-11-01' + i * interval '1 hour' AS s) AS t,
             LATERAL (SELECT * FROM pool WHERE id = (k * 7 + i) %% 240) AS p
    """,
}
SIZES = {
    "packed": "SELECT pg_table_size('b_packed'), count(*), avg(pg_column_size(b.*)),"
    " avg(pg_column_size(histogram)) FROM b_packed AS b",
    "arrays": "SELECT pg_table_size('b_arrays'), count(*), avg(pg_column_size(b.*)),"
    " avg(pg_column_size(hist_keys) + pg_column_size(hist_counts)) FROM b_arrays AS b",
    "jsonb": "SELECT pg_table_size('b_jsonb'), count(*), avg(pg_column_size(b.*)),"
    " avg(pg_column_size(histogram)) FROM b_jsonb AS b",
}
# Day buckets of every key: the same GROUP BY for each form, merging by key in SQL.
DAY_MERGES = {
    "packed (aggregate)": """
        SELECT route, date_trunc('day', period_start, 'UTC'),
               pgmetrics._histogram_merge_agg(histogram)
        FROM b_packed GROUP BY 1, 2
    """,
    "packed (unnest, group)": """
        SELECT route, day, pgmetrics._histogram_pack(array_agg(bucket), array_agg(c))
        FROM (SELECT route, date_trunc('day', period_start, 'UTC') AS day, e >> 15 AS bucket,
                     sum(e & 32767)::bigint AS c
              FROM b_packed, unnest(histogram) AS e GROUP BY 1, 2, 3) AS s
        GROUP BY 1, 2
    """,
    "arrays (unnest, group)": """
        SELECT route, day, array_agg(k ORDER BY k), array_agg(c::bigint ORDER BY k)
        FROM (SELECT route, date_trunc('day', period_start, 'UTC') AS day, u.k, sum(u.c) AS c
              FROM b_arrays, unnest(hist_keys, hist_counts) AS u(k, c) GROUP BY 1, 2, 3) AS s
        GROUP BY 1, 2
    """,
    "jsonb (each, group)": """
        SELECT route, day, jsonb_object_agg(k, c)
        FROM (SELECT route, date_trunc('day', period_start, 'UTC') AS day, j.key AS k,
                     sum(j.value::bigint) AS c
              FROM b_jsonb, jsonb_each_text(histogram) AS j GROUP BY 1, 2, 3) AS s
        GROUP BY 1, 2
    """,
}
ONE_DAY = {
    "packed (aggregate)": "SELECT pgmetrics._histogram_merge_agg(histogram) FROM b_packed"
    " WHERE route = %(route)s AND period_start >= '2026-11-01' AND period_start < '2026-11-02'",
    "arrays (unnest, group)": "SELECT array_agg(k ORDER BY k), array_agg(c ORDER BY k) FROM"
    " (SELECT u.k, sum(u.c)::bigint AS c FROM b_arrays, unnest(hist_keys, hist_counts) AS u(k, c)"
    " WHERE route = %(route)s AND period_start >= '2026-11-01' AND period_start < '2026-11-02'"
    " GROUP BY 1) AS s",
    "jsonb (each, group)": "SELECT jsonb_object_agg(k, c) FROM (SELECT j.key AS k,"
    " sum(j.value::bigint) AS c FROM b_jsonb, jsonb_each_text(histogram) AS j"
    " WHERE route = %(route)s AND period_start >= '2026-11-01' AND period_start < '2026-11-02'"
    " GROUP BY 1) AS s",
}
# LANGUAGE sql counterparts of the two hot plpgsql functions, for comparison only.
SQL_VARIANTS = [
    """
    CREATE FUNCTION bench_bucket_sql(duration_ms double precision) RETURNS int
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
        SELECT CASE WHEN x - f > 1e-6 AND f + 1 - x > 1e-6 THEN f::int + 1
                    ELSE pgmetrics._histogram_bucket(duration_ms) END
        FROM (SELECT x, pg_catalog.floor(x) AS f
              FROM (SELECT pg_catalog.ln(duration_ms) / 0.020000666706669435::float8 AS x) AS a
        ) AS b
    $$
    """,
    """
    CREATE FUNCTION bench_add_sql(histogram int[], duration_ms double precision) RETURNS int[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
        SELECT pgmetrics._histogram_merge(
            histogram, ARRAY[(pgmetrics._histogram_bucket(duration_ms) << 15) | 1])
    $$
    """,
]
HOT_CALLS = {
    "_histogram_bucket plpgsql": "SELECT count(pgmetrics._histogram_bucket(v)) FROM pool_values",
    "_histogram_bucket sql": "SELECT count(bench_bucket_sql(v)) FROM pool_values",
    "_histogram_add plpgsql": "SELECT count(pgmetrics._histogram_add(p.packed, v.v))"
    " FROM pool_values AS v JOIN pool AS p ON p.id = v.id %% 240 WHERE v.id <= 20000",
    "_histogram_add sql": "SELECT count(bench_add_sql(p.packed, v.v))"
    " FROM pool_values AS v JOIN pool AS p ON p.id = v.id %% 240 WHERE v.id <= 20000",
}


def _histograms(rng: random.Random, sigma: float) -> list[tuple[Histogram, list[float]]]:
    out = []
    for _ in range(POOL):
        median = math.exp(rng.uniform(math.log(5.0), math.log(800.0)))
        values = [rng.lognormvariate(math.log(median), sigma) for _ in range(1000)]
        out.append((Histogram.of(values), values))
    return out


def _load_pool(conn: psycopg.Connection[tuple[object, ...]], sigma: float) -> float:
    rng = random.Random(42)
    pool = _histograms(rng, sigma)
    conn.execute("DROP TABLE IF EXISTS pool")
    conn.execute(
        "CREATE TABLE pool (id int PRIMARY KEY, n bigint, total float8, min_ms float8,"
        " max_ms float8, zero_count bigint, packed int[], keys int[], counts bigint[],"
        " json jsonb)"
    )
    # Stored uncompressed, so that each candidate table compresses (or not) by its own settings.
    conn.execute(
        "ALTER TABLE pool ALTER packed SET STORAGE EXTERNAL, ALTER keys SET STORAGE EXTERNAL,"
        " ALTER counts SET STORAGE EXTERNAL, ALTER json SET STORAGE EXTERNAL"
    )
    with conn.cursor() as cur:
        for i, (histogram, values) in enumerate(pool):
            keys = sorted(histogram.counts)
            cur.execute(
                "INSERT INTO pool VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " (SELECT jsonb_object_agg(k, c) FROM unnest(%s::int[], %s::bigint[]) AS u(k, c)))",
                (
                    i,
                    len(values),
                    sum(values),
                    min(values),
                    max(values),
                    histogram.zero_count,
                    histogram.to_sql(),
                    keys,
                    [histogram.counts[k] for k in keys],
                    keys,
                    [histogram.counts[k] for k in keys],
                ),
            )
    return sum(len(h.counts) for h, _ in pool) / len(pool)


def _timed(conn: psycopg.Connection[tuple[object, ...]], query: str, **params: object) -> float:
    start = time.perf_counter()
    conn.execute(query, params).fetchall()
    return time.perf_counter() - start


def _python_add_ns(sigma: float) -> tuple[float, float]:
    rng = random.Random(1)
    values = [rng.lognormvariate(math.log(20.0), sigma) for _ in range(100_000)]
    histogram = Histogram()
    add = histogram.add
    best_add = min(timeit.repeat(lambda: [add(v) for v in values], number=1, repeat=5))
    best_index = min(timeit.repeat(lambda: [bucket_index(v) for v in values], number=1, repeat=5))
    return best_add / len(values) * 1e9, best_index / len(values) * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keys", type=int, default=2000, help="keys of the 7-day merge")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--size-keys", type=int, default=200, help="keys x 24 h for bytes/row")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()

    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    add_ns, index_ns = _python_add_ns(0.8)
    say(f"Python: Histogram.add() {add_ns:.0f} ns per value, bucket_index() {index_ns:.0f} ns")
    say()

    with LocalCluster(durable=True) as cluster:
        deploy(cluster.dsn())
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            say(
                "Bytes per hourly row (lognormal, 1,000 requests an hour, "
                f"{args.size_keys} keys x 24 h; table = heap incl. TOAST / rows):"
            )
            say()
            say("| sigma | buckets/row | form | histogram bytes | row bytes | table bytes/row |")
            say("|---|---|---|---|---|---|")
            for sigma in (0.5, 1.0):
                buckets = _load_pool(conn, sigma)
                for form, create in CREATE.items():
                    conn.execute(DROP_TABLES)
                    conn.execute(create)
                    conn.execute(INSERTS[form], {"keys": args.size_keys, "hours": 24})
                    conn.execute("VACUUM ANALYZE")
                    row = conn.execute(SIZES[form]).fetchone()
                    assert row is not None
                    table, rows, row_bytes, hist_bytes = (float(str(x)) for x in row)
                    say(
                        f"| {sigma} | {buckets:.0f} | {form} | {hist_bytes:.0f} | "
                        f"{row_bytes:.0f} | {table / rows:.0f} |"
                    )
            say()

            hours = args.days * 24
            say(
                f"Merges (sigma 1.0): {args.keys} keys x {args.days} days x 24 h = "
                f"{args.keys * hours:,} hourly rows into {args.keys * args.days:,} day buckets; "
                "one day of one key = 24 rows (median of 30 runs):"
            )
            say()
            say("| form, method | 24 hours -> 1 day | all day buckets | per day bucket |")
            say("|---|---|---|---|")
            conn.execute(DROP_TABLES)
            for form in ("packed", "arrays", "jsonb"):
                conn.execute(CREATE[form])
                conn.execute(INSERTS[form], {"keys": args.keys, "hours": hours})
            conn.execute("VACUUM ANALYZE")
            for name, query in DAY_MERGES.items():
                one = ONE_DAY.get(name)
                one_day = ""
                if one is not None:
                    runs = sorted(
                        _timed(conn, one, route=f"/api/v1/items/{{id}}/key{k}")
                        for k in range(1, 31)
                    )
                    one_day = f"{runs[15] * 1e3:.2f} ms"
                total = _timed(conn, query)
                per = total / (args.keys * args.days) * 1e6
                say(f"| {name} | {one_day} | {total:.2f} s | {per:.0f} us |")
            say()

            conn.execute(
                "CREATE TABLE pool_values AS SELECT i AS id,"
                " exp(ln(20) + 0.8 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())) AS v"
                " FROM generate_series(1, 100000) AS i"
            )
            for statement in SQL_VARIANTS:
                conn.execute(statement)
            say(
                "Hot functions (bucket: 100,000 calls; add: 20,000 calls into hourly histograms"
                " of ~220 buckets):"
            )
            say()
            say("| function | per call |")
            say("|---|---|")
            for name, query in HOT_CALLS.items():
                best = min(_timed(conn, query) for _ in range(3))
                calls = 20_000 if "add" in name else 100_000
                say(f"| {name} | {best * 1e6 / calls:.1f} us |")

    if not args.no_record:
        append_results("Duration histogram: storage forms, merges, hot functions", lines)


if __name__ == "__main__":
    main()
