"""Direct SQL recording on ONE hot key against a plain one-row INSERT into a logged table,
both through pgbench in the same run, synchronous_commit on (goal: >= 0.8x at 8 clients).

    python -m bench.hot_key [--seconds 10] [--clients 1,8,16]
"""

from __future__ import annotations

import argparse

import psycopg

from bench.pgbench import Pgbench
from bench.results import append_results
from devtools.localcluster import LocalCluster
from pgmetrics.deploy import deploy

RECORD = "SELECT pgmetrics.record_route_metric('/users/{id}', 'GET', true, 12.5);\n"
INSERT = "INSERT INTO bench_plain VALUES ('/users/{id}', 'GET', true, 12.5, now());\n"
# What the function itself writes, as a plain statement: the gap to it is the cost of the call.
EVENTS = (
    "INSERT INTO pgmetrics.route_events VALUES "
    "('/users/{id}', 'GET', date_trunc('hour', now(), 'UTC'), true, 12.5, now());\n"
)
GOAL = 0.8


def pgbench(cluster: LocalCluster, script: str, clients: int, seconds: int) -> float:
    return Pgbench(cluster, "bench", script, clients, seconds).finish()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", default="1,8,16")
    args = parser.parse_args()
    lines = [
        "| clients | record_route_metric calls/s | plain INSERT rows/s | ratio "
        "| goal >= 0.8 at 8 | INSERT into route_events rows/s |",
        "|---|---|---|---|---|---|",
    ]
    with LocalCluster(durable=True, settings={"synchronous_commit": "on"}) as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        deploy(cluster.dsn("bench"))
        with psycopg.connect(cluster.dsn("bench"), autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE bench_plain (route text, method text, success boolean, "
                "duration_ms double precision, at timestamptz)"
            )
        for clients in (int(c) for c in args.clients.split(",")):
            record = pgbench(cluster, RECORD, clients, args.seconds)
            insert = pgbench(cluster, INSERT, clients, args.seconds)
            events = pgbench(cluster, EVENTS, clients, args.seconds)
            ratio = record / insert
            verdict = ("met" if ratio >= GOAL else "NOT met") if clients == 8 else ""
            lines.append(
                f"| {clients} | {record:,.0f} | {insert:,.0f} | {ratio:.2f}x | {verdict} "
                f"| {events:,.0f} |"
            )
            print(lines[-1], flush=True)
    append_results("Hot-key direct SQL recording vs plain INSERT (pgbench)", lines)


if __name__ == "__main__":
    main()
