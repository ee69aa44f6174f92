"""A throwaway local PostgreSQL cluster, for the test suite, the benchmarks and the demo.

PostgreSQL refuses to run as root, and CI runs as root: in that case the server runs as the
``postgres`` system user (created by Debian's postgresql-common) through ``runuser``.
testing.postgresql cannot do that, which is why this module exists.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

_DEBIAN_BINDIR = Path("/usr/lib/postgresql/15/bin")


class ClusterError(RuntimeError):
    """The local cluster could not be created, started or stopped."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: $PGMETRICS_PG_BINDIR, Debian's, or $PATH."""
    configured = os.environ.get("PGMETRICS_PG_BINDIR")
    if configured:
        return Path(configured)
    if (_DEBIAN_BINDIR / "pg_ctl").exists():
        return _DEBIAN_BINDIR
    found = shutil.which("pg_ctl")
    if found is None:
        raise ClusterError(
            "PostgreSQL server binaries not found: install postgresql-15 or set PGMETRICS_PG_BINDIR"
        )
    return Path(found).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalCluster:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 with trust auth.

    ``durable=False`` turns fsync off, for tests that do not need crash safety of the OS.
    pg_cron is preloaded; its jobs run in ``cron_database``.
    """

    def __init__(
        self,
        *,
        durable: bool = True,
        cron_database: str = "postgres",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.bindir = find_bindir()
        self.port = 0
        self.base: Path | None = None
        self._settings: dict[str, str] = {
            "listen_addresses": "'127.0.0.1'",
            "shared_preload_libraries": "'pg_cron'",
            "cron.database_name": f"'{cron_database}'",
            "cron.host": "'127.0.0.1'",
            "max_connections": "200",
            "log_min_messages": "warning",
        }
        if not durable:
            self._settings.update(fsync="off", full_page_writes="off", synchronous_commit="off")
        self._settings.update(settings or {})
        self._owner: pwd.struct_passwd | None = (
            pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        )

    @property
    def datadir(self) -> Path:
        if self.base is None:
            raise ClusterError("the cluster has not been created")
        return self.base / "data"

    @property
    def logfile(self) -> Path:
        return self.datadir.parent / "server.log"

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={user} dbname={dbname}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._owner is not None:
            command = ["runuser", "-u", self._owner.pw_name, "--", *command]
        try:
            return subprocess.run(  # noqa: S603 - fixed binaries, arguments built here
                command,
                capture_output=True,
                text=True,
                check=True,
                timeout=timeout,
                cwd=self.datadir.parent,
            )
        except subprocess.CalledProcessError as exc:
            raise ClusterError(
                f"{args[0]} failed: {exc.stderr.strip() or exc.stdout.strip()}"
            ) from exc

    def _prepare(self, prefix: str) -> Path:
        """The cluster's directory, port and socket directory, owned by the server's user."""
        self.base = Path(tempfile.mkdtemp(prefix=prefix))
        self.port = _free_port()
        sockets = self.base / "run"
        sockets.mkdir()
        if self._owner is not None:
            for path in (self.base, sockets):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        return sockets

    def _configure(self, sockets: Path) -> None:
        settings = {**self._settings, "port": str(self.port)}
        settings["unix_socket_directories"] = f"'{sockets}'"
        conf = "".join(f"{name} = {value}\n" for name, value in settings.items())
        # Appended: the last setting of a name wins, over initdb's or a base backup's.
        with (self.datadir / "postgresql.conf").open("a", encoding="utf-8") as handle:
            handle.write(conf)

    def create(self) -> None:
        sockets = self._prepare("pgmetrics-")
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        self._configure(sockets)

    def create_standby(self) -> LocalCluster:
        """A new cluster streaming from this one (hot standby), created but not started."""
        standby = LocalCluster(settings={"hot_standby": "on"})
        sockets = standby._prepare("pgmetrics-standby-")
        standby._run(
            "pg_basebackup",
            "-D",
            str(standby.datadir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "--write-recovery-conf",
            "--checkpoint=fast",
        )
        standby._configure(sockets)
        return standby

    def start(self) -> None:
        if self.base is None:
            self.create()
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stops the server; ``mode="immediate"`` simulates a crash."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.is_running():
            if time.monotonic() > deadline:
                raise ClusterError(f"server did not accept connections within {timeout} s")
            time.sleep(0.05)

    def destroy(self) -> None:
        if self.base is None:
            return
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError):
                self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()
