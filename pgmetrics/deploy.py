"""Deploying the schema with sqitch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

# libpq reads these variables, and so do psql and DBD::Pg under sqitch: passing the DSN this way
# keeps passwords off the command line and works for every form of DSN psycopg accepts.
_LIBPQ_ENV = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "service": "PGSERVICE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}

SQITCH_INSTALL_HINT = (
    "sqitch not found: install it (Debian/Ubuntu: apt-get install sqitch libdbd-pg-perl; "
    "elsewhere see https://sqitch.org/download/)"
)


class DeployError(RuntimeError):
    """sqitch is missing or failed; the message is sqitch's own."""


def packaged_dir() -> Path:
    """The copy of the sqitch project that an installed (non-editable) package carries."""
    return Path(str(resources.files("pgmetrics").joinpath("_sqitch")))


def project_dir() -> Path:
    """The directory holding sqitch.plan: $PGMETRICS_SQITCH_DIR, else the source checkout, else
    the copy inside the installed package."""
    configured = os.environ.get("PGMETRICS_SQITCH_DIR")
    if configured:
        if not (Path(configured) / "sqitch.plan").is_file():
            raise DeployError(
                f"sqitch.plan not found in {configured}: "
                "set PGMETRICS_SQITCH_DIR to the pgmetrics source directory"
            )
        return Path(configured)
    checkout = Path(__file__).resolve().parent.parent
    for candidate in (checkout, packaged_dir()):
        if (candidate / "sqitch.plan").is_file():
            return candidate
    raise DeployError(
        f"sqitch.plan not found in {checkout} nor in the installed package: "
        "set PGMETRICS_SQITCH_DIR to the pgmetrics source directory"
    )


def libpq_env(dsn: str) -> dict[str, str]:
    """The environment variables that make libpq clients connect where ``dsn`` says."""
    params = conninfo_to_dict(dsn)
    unknown = sorted(set(params) - set(_LIBPQ_ENV))
    if unknown:
        raise ValueError(f"DSN parameters not supported for deploy: {', '.join(unknown)}")
    return {_LIBPQ_ENV[name]: str(value) for name, value in params.items() if value is not None}


def sqitch(command: str, dsn: str, *args: str, progress: bool = False) -> str:
    """Runs ``sqitch <command> db:pg: <args>`` against ``dsn``; returns its output, or with
    ``progress`` lets sqitch print it (a line per change) as it goes and returns ''."""
    executable = shutil.which("sqitch")
    if executable is None:
        raise DeployError(SQITCH_INSTALL_HINT)
    # What the DSN leaves out, libpq takes from the environment (PGPORT, PGPASSWORD, ...) for
    # sqitch as it does for psycopg: both then reach the same database.
    env = dict(os.environ)
    env.update(libpq_env(dsn))
    env.setdefault("SQITCH_FULLNAME", "pgmetrics")
    env.setdefault("SQITCH_EMAIL", "pgmetrics@localhost")
    quiet = [] if progress else ["--quiet"]
    sys.stdout.flush()
    proc = subprocess.run(  # noqa: S603 - sqitch from PATH, arguments built here
        [executable, *quiet, command, "db:pg:", *args],
        cwd=project_dir(),
        env=env,
        # With progress, sqitch writes to this process's own stdout as each change deploys.
        stdout=None if progress else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise DeployError(f"sqitch {command} failed: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout or ""


def script_deployment(dsn: str) -> tuple[int, str] | None:
    """How many changes the SQL script of ``pgmetrics sql`` recorded in ``dsn``, and the last of
    them; None when the script deployed nothing there."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT pg_catalog.to_regclass('pgmetrics_registry.changes') IS NOT NULL"
        ).fetchone()
        if row is None or not row[0]:
            return None
        row = conn.execute(
            "SELECT count(*), (array_agg(change ORDER BY deployed_at DESC))[1] "
            "FROM pgmetrics_registry.changes"
        ).fetchone()
    if row is None or not row[0]:
        return None
    return int(row[0]), str(row[1])


def sqitch_registry_readable(dsn: str) -> bool:
    """Whether the role of ``dsn`` may read sqitch's registry (schema sqitch) there: sqitch status
    fails with "relation changes does not exist" for a role that may not."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT pg_catalog.to_regnamespace('sqitch') IS NOT NULL "
            "AND pg_catalog.has_schema_privilege('sqitch', 'USAGE')"
        ).fetchone()
    return bool(row and row[0])


def deploy(dsn: str, *, progress: bool = False) -> None:
    """Deploys (and verifies) every change of sqitch.plan not yet deployed to ``dsn``; with
    ``progress``, sqitch prints each change as it goes."""
    # sqitch would fail half-way on objects it did not record; say why before it starts.
    if script_deployment(dsn) is not None:
        raise DeployError(
            "the SQL script of `pgmetrics sql` deployed this database "
            "(pgmetrics_registry.changes): upgrade it with a newer script, not with sqitch"
        )
    sqitch("deploy", dsn, "--verify", progress=progress)
