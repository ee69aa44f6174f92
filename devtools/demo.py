"""``pgmetrics demo`` (``python -m devtools.demo`` from a checkout): a throwaway cluster, a small
web application run three times (the database crashes and comes back during the second run), then
the report, checked against what the application sent."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from devtools.localcluster import ClusterError, LocalCluster
from pgmetrics.database import DatabaseMetricsStorage
from pgmetrics.deploy import DeployError, deploy
from pgmetrics.report import operation_table, route_table
from pgmetrics.types import OperationMetrics, RouteMetrics, TimeRange

# The checkout, from which the application process imports devtools.demo_app.
ROOT = Path(__file__).resolve().parent.parent


class DemoError(RuntimeError):
    """The demo's totals did not add up, or one of its application runs failed."""


def _app_command(dsn: str, requests: int, seed: int, outage: bool) -> list[str]:
    command = [sys.executable, "-m", "devtools.demo_app", "--dsn", dsn]
    command += ["--requests", str(requests), "--seed", str(seed)]
    return [*command, "--outage"] if outage else command


def _last_json(output: str) -> Counter[str]:
    return Counter(json.loads(output.strip().splitlines()[-1]))


def _run_app(dsn: str, requests: int, seed: int) -> Counter[str]:
    proc = subprocess.run(  # noqa: S603 - this interpreter running the checkout's own module
        _app_command(dsn, requests, seed, outage=False),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise DemoError(f"the application run failed: {proc.stderr.strip()[-500:]}")
    return _last_json(proc.stdout)


def _run_app_through_outage(
    cluster: LocalCluster, dsn: str, requests: int, seed: int
) -> Counter[str]:
    proc = subprocess.Popen(  # noqa: S603 - as above
        _app_command(dsn, requests, seed, outage=True),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    if proc.stdin is None or proc.stdout is None:
        raise DemoError("the application run has no pipes")
    output = []
    for line in proc.stdout:
        output.append(line)
        if line.startswith("pause: stop"):
            cluster.stop("immediate")
            print("  database crashed (pg_ctl stop -m immediate); the application keeps serving")
        elif line.startswith("pause: start"):
            cluster.start()
            print("  database started again; the application delivers what it kept in memory")
        else:
            continue
        proc.stdin.write("\n")
        proc.stdin.flush()
    if proc.wait(60) != 0:
        raise DemoError("the application run through the outage failed")
    return _last_json("".join(output))


def _stored(
    dsn: str,
) -> tuple[Counter[str], tuple[RouteMetrics, ...], tuple[OperationMetrics, ...]]:
    now = datetime.now(UTC)
    window = TimeRange(now - timedelta(days=1), now + timedelta(hours=1))
    storage = DatabaseMetricsStorage(dsn, shutdown_timeout=0)
    try:
        routes = storage.get_route_metrics(time_range=window, bucket="all")
        operations = storage.get_operation_metrics(time_range=window, bucket="all")
    finally:
        storage.close()
    if routes.source != "database":
        raise DemoError(f"the database could not be read: {routes.error}")
    stored: Counter[str] = Counter()
    for route in routes.rows:
        stored[f"{route.method} {route.route}"] += route.total_requests
    for operation in operations.rows:
        stored[f"operation {operation.operation}"] += operation.total_executions
    return stored, routes.rows, operations.rows


def run_demo(requests: int = 400) -> None:
    print("demo: starting a throwaway PostgreSQL cluster with pg_cron preloaded", flush=True)
    # The demo crashes the server: an acknowledged commit must survive that (fsync may stay off).
    with LocalCluster(durable=False, settings={"synchronous_commit": "on"}) as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE pgmetrics")
        dsn = cluster.dsn("pgmetrics")
        print("demo: deploying the schema with sqitch", flush=True)
        deploy(dsn)
        sent: Counter[str] = Counter()
        print(f"demo: application run 1: {requests} requests through MetricsMiddleware", flush=True)
        sent += _run_app(dsn, requests, seed=1)
        print(f"demo: application run 2 (restarted): {requests} requests", flush=True)
        sent += _run_app_through_outage(cluster, dsn, requests, seed=2)
        print(f"demo: application run 3 (restarted): {requests} requests", flush=True)
        sent += _run_app(dsn, requests, seed=3)

        stored, routes, operations = _stored(dsn)
        print()
        print(route_table(routes))
        print()
        print(operation_table(operations))
        print()
        total_sent = sum(v for k, v in sent.items() if not k.startswith("operation"))
        if stored != sent:
            raise DemoError(
                f"stored totals differ from what was sent: sent {dict(sent)}, stored {dict(stored)}"
            )
        print(
            f"demo: {total_sent} requests sent in 3 application runs across a database crash; "
            f"{total_sent} stored: nothing lost, nothing counted twice"
        )
        print(
            f"demo: the data lived in {dsn}: hourly rows in pgmetrics.route_metrics and "
            "pgmetrics.operation_metrics, days, weeks and months in pgmetrics.route_metrics_rollup "
            "and pgmetrics.operation_metrics_rollup"
        )
    print("demo: done; the throwaway cluster is removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pgmetrics demo", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per application run")
    args = parser.parse_args(argv)
    try:
        run_demo(requests=args.requests)
    except (DemoError, ClusterError, DeployError, psycopg.Error) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"pgmetrics demo: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
