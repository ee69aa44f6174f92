"""Real server processes (uvicorn, gunicorn, hypercorn) on free ports of 127.0.0.1, started from a
directory of application files with the environment pgmetrics reads, and stopped by SIGTERM to
their master as a process manager does."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_files(directory: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


def server_env(dsn: str, spool: Path | None, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OBSERVABILITY_METRICS_") and key != "DATABASE_URL"
    }
    env.update(
        OBSERVABILITY_METRICS_STORAGE="database",
        OBSERVABILITY_METRICS_DATABASE_URL=dsn,
        PYTHONUNBUFFERED="1",
        PYTHONWARNINGS="ignore::DeprecationWarning",
    )
    if spool is not None:
        env["OBSERVABILITY_METRICS_SPOOL_DIR"] = str(spool)
    env.update(extra)
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    exit_code: int | None = None
    answered: dict[int, int] = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM to the master; its exit code once it has ended."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the server did not stop:\n{self.output()}") from None
        return self.exit_code


@contextlib.contextmanager
def serve(
    command: Sequence[str], cwd: Path, env: dict[str, str], port: int, name: str = "server"
) -> Iterator[Server]:
    """Starts ``python -m <command>`` in ``cwd`` and waits until the port accepts connections.
    The block stops it with SIGTERM unless it did; a server that is still alive is killed."""
    log = cwd / f"{name}.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{command[0]} ended at start:\n{server.output()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"{command[0]} did not listen:\n{server.output()}")
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def hammer(
    url: str, paths: Sequence[tuple[str, str]], threads: int = 8, **request: object
) -> dict[int, int]:
    """Sends each (method, path) once, from ``threads`` threads; the count of each status."""

    local = threading.local()
    clients: list[httpx.Client] = []

    def send(item: tuple[int, tuple[str, str]]) -> int:
        method, path = item[1]
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, timeout=30)
            clients.append(client)
        return client.request(method, path, **request).status_code  # type: ignore[arg-type]

    statuses: dict[int, int] = {}
    try:
        with ThreadPoolExecutor(threads) as pool:
            for status in pool.map(send, enumerate(paths)):
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        for client in clients:
            client.close()
    return statuses


def summary(dsn: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(route, method) -> (total_requests, failed), read through route_metrics_summary."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT route, method, total_requests, failed FROM pgmetrics.route_metrics_summary("
            "now() - interval '2 days', now() + interval '2 days', 'all')"
        ).fetchall()
    return {(str(r[0]), str(r[1])): (int(r[2]), int(r[3])) for r in rows}
