"""The ``pgmetrics`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import psycopg

from pgmetrics import __version__
from pgmetrics.config import database_url
from pgmetrics.deploy import DeployError, deploy
from pgmetrics.localcluster import ClusterError, LocalCluster


class CommandError(Exception):
    """An error to print as one line, with a non-zero exit status."""


def _require_dsn() -> str:
    dsn = database_url()
    if dsn is None:
        raise CommandError(
            "set OBSERVABILITY_METRICS_DATABASE_URL (or DATABASE_URL) to the database"
        )
    return dsn


def cmd_deploy(_args: argparse.Namespace) -> None:
    deploy(_require_dsn())
    print("pgmetrics: schema deployed")


_DEMO_CALLS = [
    ("/users/{id}", "get", True, 12.5),
    ("/users/{id}", "GET", True, 8.0),
    ("/users/{id}", "GET", False, 250.0),
    ("/orders", "POST", True, 41.2),
    ("/orders", "post", True, 38.9),
]


def cmd_demo(_args: argparse.Namespace) -> None:
    print("demo: starting a throwaway PostgreSQL cluster with pg_cron preloaded")
    with LocalCluster(durable=False) as cluster:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE pgmetrics")
        dsn = cluster.dsn("pgmetrics")
        print(f"demo: deploying the schema with sqitch into {dsn}")
        deploy(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for route, method, success, duration in _DEMO_CALLS:
                print(
                    f"  SELECT pgmetrics.record_route_metric('{route}', '{method}', "
                    f"{str(success).lower()}, {duration});"
                )
                conn.execute(
                    "SELECT pgmetrics.record_route_metric(%s, %s, %s, %s)",
                    (route, method, success, duration),
                )
            conn.execute("SELECT pgmetrics.record_operation_metric('send_email', true, 120.0)")
            rows = conn.execute(
                """
                SELECT route, method, period_start, total_requests, successful, failed,
                       round((total_duration_ms / total_requests)::numeric, 2),
                       min_duration_ms, max_duration_ms
                FROM pgmetrics.route_metrics ORDER BY route, method
                """
            ).fetchall()
        print(
            "\nroute          method  hour (UTC)        total  ok  failed  avg ms  min ms  max ms"
        )
        for route, method, hour, total, ok, failed, avg, low, high in rows:
            print(
                f"{route:<14} {method:<7} {hour:%Y-%m-%d %H:00}  {total:>5} {ok:>3} {failed:>7} "
                f"{avg:>7} {low:>7} {high:>7}"
            )
        print("\ndemo: done; the throwaway cluster is removed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgmetrics", description=__doc__)
    parser.add_argument("--version", action="version", version=f"pgmetrics {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("deploy", help="deploy the schema with sqitch").set_defaults(
        func=cmd_deploy
    )
    commands.add_parser("demo", help="run a self-contained demo").set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CommandError, DeployError, ClusterError, psycopg.Error) as exc:
        if args.debug:
            raise
        print(f"pgmetrics: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
