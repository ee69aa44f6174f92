"""The ``pgmetrics`` command: deploy, status, report, retention, serve, demo.

Its database is OBSERVABILITY_METRICS_DATABASE_URL (or DATABASE_URL). Errors are one line and
a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, LiteralString

import psycopg

from pgmetrics import __version__, queries
from pgmetrics.checks import BUCKETS
from pgmetrics.config import database_url, read_database_url, retention_days
from pgmetrics.database import DatabaseMetricsStorage
from pgmetrics.deploy import DeployError, deploy, script_deployment, sqitch
from pgmetrics.report import FORMATS, as_csv, as_json, operation_table, route_table
from pgmetrics.sqlscript import add_command as add_sql_command
from pgmetrics.times import parse_timestamp
from pgmetrics.web.admin import admin_query, configured_token, read_metrics


class CommandError(Exception):
    """An error to print as one line, with a non-zero exit status."""


_SPAN = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_span(text: str) -> timedelta:
    """``90m``, ``24h``, ``7d``, ``2w``."""
    match = _SPAN.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a span such as 30m, 24h, 7d or 2w, got {text!r}"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _dsn() -> str:
    dsn = database_url()
    if dsn is None:
        raise CommandError(
            "set OBSERVABILITY_METRICS_DATABASE_URL (or DATABASE_URL) to the database"
        )
    return dsn


def _call(statement: LiteralString, params: dict[str, Any] | None = None) -> Any:
    with psycopg.connect(_dsn(), autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(statement, params or {}).fetchone()
    return None if row is None else row[0]


def cmd_deploy(_args: argparse.Namespace) -> None:
    days = retention_days()
    print("deploy: running sqitch deploy --verify", flush=True)
    deploy(_dsn())
    if days is not None:
        _call(queries.SET_SETTING, {"name": "retention_days", "value": days})
        print(f"deploy: retention_days = {days} (OBSERVABILITY_METRICS_RETENTION_DAYS)")
    print("deploy: the schema is up to date")


def _plan_state(dsn: str) -> str:
    """sqitch's status, or the registry's count for a database the SQL script deployed."""
    script = script_deployment(dsn)
    if script is None:
        return sqitch("status", dsn).strip()
    count, last = script
    return f"deployed by the SQL script of `pgmetrics sql`: {count} changes, the last {last}"


def cmd_status(args: argparse.Namespace) -> None:
    plan = _plan_state(_dsn())
    status = _call(queries.REPORT_STATUS)
    if args.format == "json":
        print(json.dumps({"sqitch": plan, **status}, indent=2, default=str))
        return
    print(plan)
    print("\nrows per tier:")
    for table, count in status["tiers"].items():
        print(f"  {table:<26}{count:>12,}")
    print(f"\nhourly detail from {status['oldest_detail']} to {status['newest_detail']}")
    print("settings: " + ", ".join(f"{k} = {v}" for k, v in sorted(status["settings"].items())))
    last = status["last_retention_run"]
    print(f"last retention run: {last['started_at'] if last else 'never'}")
    if last:
        print("  " + json.dumps(last["result"], sort_keys=True))
    job = status["retention_job"]
    if not status["pg_cron"]:
        print("pg_cron: not installed in this database (any scheduler can run run_retention())")
    elif job is None:
        print("pg_cron: installed; retention is not scheduled (pgmetrics retention schedule)")
    else:
        print(f"pg_cron: job {job['jobid']} runs retention at '{job['schedule']}'")


def cmd_report(args: argparse.Namespace) -> None:
    end = args.end or datetime.now(UTC)
    try:
        start = args.start or end - args.since
    except OverflowError:
        raise CommandError("--end is too early for --since") from None
    try:
        query = admin_query(
            start=start,
            end=end,
            bucket=args.bucket,
            tz=args.tz,
            route=args.route,
            method=args.method,
            operation=args.operation,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    # A report is a read: it goes to the read replica when one is configured.
    storage = DatabaseMetricsStorage(
        _dsn(), batch_interval=60.0, shutdown_timeout=0.0, read_database=read_database_url()
    )
    try:
        routes, operations = read_metrics(storage, query)
    finally:
        storage.close()
    if routes.source != "database" or operations.source != "database":
        raise CommandError(f"the database could not be read: {routes.error or operations.error}")
    if query.operation is not None and query.route is None and query.method is None:
        routes = dataclasses.replace(routes, rows=())
    if (query.route is not None or query.method is not None) and query.operation is None:
        operations = dataclasses.replace(operations, rows=())
    if args.format == "json":
        print(as_json(routes.rows, operations.rows))
    elif args.format == "csv":
        print(as_csv(routes.rows, operations.rows), end="")
    else:
        span = (
            f"{query.time_range.start:%Y-%m-%d %H:%M} to {query.time_range.end:%Y-%m-%d %H:%M} UTC"
        )
        print(f"routes, {span}, by {query.bucket} ({query.tz}), busiest first\n")
        print(route_table(routes.rows))
        print(f"\noperations, {span}, by {query.bucket} ({query.tz}), busiest first\n")
        print(operation_table(operations.rows))


def cmd_retention(args: argparse.Namespace) -> None:
    if args.action == "run":
        result = _call(queries.RUN_RETENTION, {"now": args.now or datetime.now(UTC)})
        print(json.dumps(result, indent=2, sort_keys=True))
        if "skipped" in result:
            raise CommandError(f"retention skipped: {result['skipped']}")
    elif args.action == "schedule":
        jobid = _call(queries.SCHEDULE_RETENTION, {"schedule": args.schedule})
        print(f"retention: pg_cron job {jobid} runs pgmetrics.run_retention() at '{args.schedule}'")
    else:
        removed = _call(queries.UNSCHEDULE_RETENTION)
        print("retention: pg_cron job removed" if removed else "retention: no job was scheduled")


def cmd_serve(args: argparse.Namespace) -> None:
    try:
        import uvicorn
    except ImportError:
        raise CommandError("serve needs uvicorn: pip install 'pgmetrics[web]'") from None
    from pgmetrics.web import AdminServer

    if not configured_token():
        print(
            "serve: OBSERVABILITY_METRICS_ADMIN_TOKEN is not set: every request will be refused",
            file=sys.stderr,
        )
    from pgmetrics.web.dashboard.asgi_app import DashboardApp

    storage = DatabaseMetricsStorage(_dsn())
    dashboard = DashboardApp(_dsn())
    try:
        server = AdminServer(storage, dashboard=dashboard)
        uvicorn.run(server, host=args.host, port=args.port, log_level="info")
    finally:
        dashboard.dashboard.close()
        storage.close()


def cmd_demo(args: argparse.Namespace) -> None:
    # The demo and its web application live in the checkout's devtools, outside the installed
    # package (they need a throwaway cluster, Starlette and httpx): run in a process of their own.
    root = Path(__file__).resolve().parent.parent
    if not (root / "devtools" / "demo.py").is_file():
        raise CommandError(
            "the demo runs from a source checkout of pgmetrics: "
            "scripts/setup && .venv/bin/pgmetrics demo"
        )
    command = [sys.executable, "-m", "devtools.demo", "--requests", str(args.requests)]
    # This interpreter running the checkout's own module.
    returncode = subprocess.run(command, cwd=root, check=False).returncode  # noqa: S603
    if returncode != 0:
        raise CommandError(f"the demo failed (exit status {returncode})")


def _timestamp(text: str) -> datetime:
    try:
        return parse_timestamp("the value", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgmetrics", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"pgmetrics {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    deploy_cmd = commands.add_parser("deploy", help="deploy the schema with sqitch")
    deploy_cmd.set_defaults(func=cmd_deploy)

    status = commands.add_parser("status", help="plan state, rows per tier, retention and pg_cron")
    status.add_argument("--format", choices=("table", "json"), default="table")
    status.set_defaults(func=cmd_status)

    report = commands.add_parser("report", help="route and operation metrics of a time range")
    report.add_argument(
        "--since", type=parse_span, default=timedelta(hours=24), help="e.g. 24h, 7d"
    )
    report.add_argument("--start", type=_timestamp, help="ISO-8601 start (instead of --since)")
    report.add_argument("--end", type=_timestamp, help="ISO-8601 end (default now)")
    report.add_argument("--bucket", choices=BUCKETS, default="day")
    report.add_argument("--route")
    report.add_argument("--method")
    report.add_argument("--operation")
    report.add_argument("--tz", default="UTC", help="IANA zone of day and week buckets")
    report.add_argument("--format", choices=FORMATS, default="table")
    report.set_defaults(func=cmd_report)

    retention = commands.add_parser("retention", help="run or schedule retention")
    retention.add_argument("action", choices=("run", "schedule", "unschedule"))
    retention.add_argument("--schedule", default="17 3 * * *", help="cron schedule for 'schedule'")
    retention.add_argument("--now", type=_timestamp, help="the time 'run' expires from")
    retention.set_defaults(func=cmd_retention)

    serve = commands.add_parser("serve", help="serve GET /api/admin/metrics and /dashboard")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo", help="a self-contained demo on a throwaway cluster")
    demo.add_argument("--requests", type=int, default=400, help="requests per application run")
    demo.set_defaults(func=cmd_demo)

    add_sql_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CommandError, DeployError, ValueError, psycopg.Error) as exc:
        if args.debug:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"pgmetrics: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
