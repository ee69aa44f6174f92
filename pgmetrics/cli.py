"""The ``pgmetrics`` command: deploy, status, report, retention, serve, demo.

Its database is OBSERVABILITY_METRICS_DATABASE_URL (or DATABASE_URL). Errors are one line and
a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, LiteralString
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from pgmetrics import __version__, queries
from pgmetrics.checks import BUCKETS
from pgmetrics.config import database_url, read_database_url, retention_days
from pgmetrics.database import DatabaseMetricsStorage
from pgmetrics.deploy import (
    DeployError,
    deploy,
    script_deployment,
    sqitch,
    sqitch_registry_readable,
)
from pgmetrics.report import FORMATS, as_csv, as_json, operation_table, route_table
from pgmetrics.sqlscript import add_command as add_sql_command
from pgmetrics.times import floor_hour, parse_timestamp
from pgmetrics.types import OperationMetrics, RouteMetrics
from pgmetrics.web.admin import AdminQuery, admin_query, configured_token

_EPILOG = """\
The database is OBSERVABILITY_METRICS_DATABASE_URL, else DATABASE_URL (a libpq URL or
key=value string); report reads OBSERVABILITY_METRICS_READ_DATABASE_URL first when set.
Errors are one line and a non-zero exit; --debug shows the traceback.
Reference: docs/cli.md."""


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


# A person is waiting: a database that does not answer in this long is reported, not retried.
CONNECT_TIMEOUT = 3


def _connect(dsn: str) -> psycopg.Connection[tuple[Any, ...]]:
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.OperationalError as exc:
        # libpq's own words (no such database, authentication failed, connection refused).
        raise CommandError(_first_line(exc)) from None


def _call(statement: LiteralString, params: dict[str, Any] | None = None) -> Any:
    with _connect(_dsn()) as conn:
        row = conn.execute(statement, params or {}).fetchone()
    return None if row is None else row[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def cmd_deploy(_args: argparse.Namespace) -> None:
    days = retention_days()
    dsn = _dsn()
    # Fail at once on a database that cannot be reached, before sqitch starts.
    _connect(dsn).close()
    print("deploy: running sqitch deploy --verify (one line per change)", flush=True)
    deploy(dsn, progress=True)
    if days is not None:
        _call(queries.SET_SETTING, {"name": "retention_days", "value": days})
        print(f"deploy: retention_days = {days} (OBSERVABILITY_METRICS_RETENTION_DAYS)")
    print("deploy: the schema is up to date")


def _plan_state(dsn: str) -> str:
    """sqitch's status, or the registry's count for a database the SQL script deployed."""
    script = script_deployment(dsn)
    if script is None:
        if not sqitch_registry_readable(dsn):
            return (
                "plan state unknown: this role may not read sqitch's registry (schema sqitch); "
                "run pgmetrics status as the role that deployed the schema to see it"
            )
        try:
            return sqitch("status", dsn).strip()
        except DeployError as exc:
            # sqitch reads its registry (schema sqitch), which only the deploying role may read;
            # the rest of the status does not need it.
            return (
                f"plan state unknown: {_first_line(exc)} "
                "(sqitch status needs sqitch and the role that deployed the schema)"
            )
    count, last = script
    return f"deployed by the SQL script of `pgmetrics sql`: {count} changes, the last {last}"


def _job_line(name: str, job: dict[str, Any] | None, command: str) -> str:
    if job is None:
        return f"  {name}: not scheduled ({command})"
    state = "" if job.get("active", True) else " (inactive)"
    return f"  {name}: job {job['jobid']} at '{job['schedule']}'{state}"


def cmd_status(args: argparse.Namespace) -> None:
    dsn = _dsn()
    _connect(dsn).close()
    status = _call(queries.REPORT_STATUS)
    plan = _plan_state(dsn)
    if args.format == "json":
        print(json.dumps({"sqitch": plan, **status}, indent=2, default=str))
        return
    print(plan)
    print("\nrows per tier:")
    for table, count in status["tiers"].items():
        print(f"  {table:<26}{count:>12,}")
    if status["oldest_detail"] is None:
        print("\nhourly detail: none yet (the fold moves recorded events into it)")
    else:
        print(f"\nhourly detail from {status['oldest_detail']} to {status['newest_detail']}")
    print("settings: " + ", ".join(f"{k} = {v}" for k, v in sorted(status["settings"].items())))
    last = status["last_retention_run"]
    print(f"last retention run: {last['started_at'] if last else 'never'}")
    if last:
        print("  " + json.dumps(last["result"], sort_keys=True))
    if not status["pg_cron"]:
        print(
            "pg_cron: not installed in this database (any scheduler can run "
            "pgmetrics.fold_events() every minute and pgmetrics.run_retention() nightly)"
        )
    elif not status.get("cron_readable", True):
        print(
            f"pg_cron: installed, but the schema owner {status.get('owner')} may not read its jobs:"
            f" as a superuser, GRANT USAGE ON SCHEMA cron TO {status.get('owner')};"
        )
    else:
        print("pg_cron jobs:")
        print(_job_line("fold", status.get("fold_job"), "SELECT pgmetrics.schedule_fold()"))
        print(_job_line("retention", status["retention_job"], "pgmetrics retention schedule"))


def _read_report(query: AdminQuery) -> tuple[list[RouteMetrics], list[OperationMetrics]]:
    """The summaries of ``query`` in one snapshot, on one connection: a person is waiting, so a
    failure is reported at once with its cause rather than retried or answered from memory."""
    params: dict[str, Any] = {
        "start": query.time_range.start,
        "end": query.time_range.end,
        "bucket": query.bucket,
        "tz": query.tz,
        "route": query.route,
        "method": query.method,
        "operation": query.operation,
    }
    zone = ZoneInfo(query.tz)
    # A report is a read: it goes to the read replica when one is configured, else the primary.
    replica = read_database_url()
    conn = None
    if replica is not None:
        try:
            conn = _connect(replica)
        except CommandError as exc:
            print(
                f"pgmetrics: the read replica failed ({exc}): reading the primary", file=sys.stderr
            )
    if conn is None:
        conn = _connect(_dsn())
    try:
        with conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(queries.READ_SNAPSHOT)
            route_rows = cursor.execute(queries.ROUTE_METRICS_SUMMARY, params).fetchall()
            operation_rows = cursor.execute(queries.OPERATION_METRICS_SUMMARY, params).fetchall()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise CommandError(
            f"{_first_line(exc)}: the role needs pgmetrics_reader (GRANT pgmetrics_reader TO ...)"
        ) from None
    routes = [
        RouteMetrics(**{**row, "bucket_start": row["bucket_start"].astimezone(zone)})
        for row in route_rows
    ]
    operations = [
        OperationMetrics(**{**row, "bucket_start": row["bucket_start"].astimezone(zone)})
        for row in operation_rows
    ]
    return routes, operations


def cmd_report(args: argparse.Namespace) -> None:
    end = args.end or datetime.now(UTC)
    try:
        start = args.start or end - args.since
    except OverflowError:
        raise CommandError("--end is too early for --since") from None
    # Metrics are stored per UTC hour: the report counts every hour the range overlaps, so that
    # --since 1h shows an event of 40 minutes ago.
    start = floor_hour(start)
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
    routes, operations = _read_report(query)
    if query.operation is not None and query.route is None and query.method is None:
        routes = []
    if (query.route is not None or query.method is not None) and query.operation is None:
        operations = []
    if args.format == "json":
        print(as_json(routes, operations))
    elif args.format == "csv":
        print(as_csv(routes, operations), end="")
    else:
        span = (
            f"{query.time_range.start:%Y-%m-%d %H:%M} to {query.time_range.end:%Y-%m-%d %H:%M} UTC"
        )
        print(f"routes, {span}, by {query.bucket} ({query.tz}), busiest first\n")
        print(route_table(routes))
        print(f"\noperations, {span}, by {query.bucket} ({query.tz}), busiest first\n")
        print(operation_table(operations))


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
    parser = argparse.ArgumentParser(
        prog="pgmetrics",
        description=__doc__.split("\n")[0],
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pgmetrics {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    deploy_cmd = commands.add_parser(
        "deploy",
        help="deploy the schema with sqitch",
        description="Runs sqitch deploy --verify with the plan of the checkout or of the installed "
        "package, printing each change, then applies OBSERVABILITY_METRICS_RETENTION_DAYS.",
    )
    deploy_cmd.set_defaults(func=cmd_deploy)

    status = commands.add_parser(
        "status",
        help="plan state, rows per tier, retention and pg_cron",
        description="Prints the plan state, rows per tier, the span of hourly detail, the "
        "settings, the last retention run and the pg_cron fold and retention jobs.",
    )
    status.add_argument("--format", choices=("table", "json"), default="table")
    status.set_defaults(func=cmd_status)

    report = commands.add_parser(
        "report",
        help="route and operation metrics of a time range",
        description="Prints route and operation summaries of every UTC hour the range overlaps, "
        "busiest first. The role needs pgmetrics_reader.",
    )
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

    retention = commands.add_parser(
        "retention",
        help="run or schedule retention",
        description="run: expire old hourly detail now and print what was done; schedule / "
        "unschedule: (un)register the nightly pg_cron job (needs pg_cron in this database).",
    )
    retention.add_argument("action", choices=("run", "schedule", "unschedule"))
    retention.add_argument("--schedule", default="17 3 * * *", help="cron schedule for 'schedule'")
    retention.add_argument("--now", type=_timestamp, help="the time 'run' expires from")
    retention.set_defaults(func=cmd_retention)

    serve = commands.add_parser(
        "serve",
        help="serve GET /api/admin/metrics and /dashboard",
        description="Serves the admin endpoint GET /api/admin/metrics and the dashboard at "
        "/dashboard on uvicorn, behind OBSERVABILITY_METRICS_ADMIN_TOKEN.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser(
        "demo",
        help="a self-contained demo on a throwaway cluster",
        description="Starts a throwaway cluster, runs a small web application through a database "
        "crash and checks every request was stored once (needs a source checkout).",
    )
    demo.add_argument("--requests", type=int, default=400, help="requests per application run")
    demo.set_defaults(func=cmd_demo)

    add_sql_command(commands)
    commands.choices["sql"].description = (
        "Prints the plan as one idempotent plain-SQL script for psql, Flyway, Supabase or "
        "Alembic, or writes one file per change with --split."
    )
    return parser


def _message(exc: BaseException) -> str:
    message = _first_line(exc)
    # The hint of a pgmetrics function says what to run (the pg_cron setup, a grant): in full.
    hint = exc.diag.message_hint if isinstance(exc, psycopg.Error) else None
    if hint is None and isinstance(exc, psycopg.errors.InsufficientPrivilege):
        hint = (
            "status and report need a member of pgmetrics_reader (GRANT pgmetrics_reader TO "
            "<role>); retention and deploy need the schema owner"
        )
    return f"{message}\nhint: {hint.strip()}" if hint else message


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`pgmetrics report | head -1`): stop quietly, as a shell tool
        # does; stdout goes to devnull so that the interpreter's own flush at exit is quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (CommandError, DeployError, ValueError, psycopg.Error) as exc:
        if args.debug:
            raise
        print(f"pgmetrics: error: {_message(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
