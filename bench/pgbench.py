"""pgbench against a LocalCluster, for the benchmarks that compare a statement with a plain
INSERT under the same client load (bench.hot_key, bench.fold_pace)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from devtools.localcluster import LocalCluster

_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
_PROCESSED = re.compile(r"number of transactions actually processed: ([0-9]+)")
_PROGRESS = re.compile(r"progress: ([0-9.]+) s, ([0-9.]+) tps")


class Pgbench:
    """pgbench running ``script`` in the background, -P 1 with epoch timestamps."""

    def __init__(
        self,
        cluster: LocalCluster,
        db: str,
        script: str,
        clients: int,
        seconds: int,
        variables: dict[str, object] | None = None,
    ) -> None:
        # Files, not pipes: nothing reads pgbench's output until it ends.
        self._dir = Path(tempfile.mkdtemp(prefix="pgbench-"))
        (self._dir / "script.sql").write_text(script, encoding="utf-8")
        out, err = (
            os.open(self._dir / name, os.O_WRONLY | os.O_CREAT, 0o600) for name in ("out", "err")
        )
        self.started = time.time()
        try:
            self._proc = subprocess.Popen(
                [
                    str(cluster.bindir / "pgbench"),
                    "-n",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(cluster.port),
                    "-U",
                    "postgres",
                    "-c",
                    str(clients),
                    "-j",
                    str(min(clients, 2)),
                    "-T",
                    str(seconds),
                    "-P",
                    "1",
                    "--progress-timestamp",
                    *(f"-D{name}={value}" for name, value in (variables or {}).items()),
                    "-f",
                    str(self._dir / "script.sql"),
                    db,
                ],
                stdout=out,
                stderr=err,
            )
        finally:
            os.close(out)
            os.close(err)

    def finish(self) -> tuple[float, int, list[tuple[float, float]]]:
        """Waits for pgbench: its tps, transactions, and (epoch second end, tps) per second."""
        try:
            code = self._proc.wait()
            out = (self._dir / "out").read_text(encoding="utf-8")
            err = (self._dir / "err").read_text(encoding="utf-8")
        finally:
            shutil.rmtree(self._dir)
        tps, processed = _TPS.search(out), _PROCESSED.search(out)
        if code != 0 or tps is None or processed is None:
            raise RuntimeError(f"pgbench failed ({code}):\n{out}\n{err}")
        progress = [(float(m.group(1)), float(m.group(2))) for m in _PROGRESS.finditer(err)]
        return float(tps.group(1)), int(processed.group(1)), progress
