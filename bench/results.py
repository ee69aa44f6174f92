"""Appending a dated entry to bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\nEach entry is appended by the benchmark that measured it, with the "
    "date, the machine and the exact command. Ratios compare against a baseline measured in the "
    "same run.\n"
)


def append_results(title: str, lines: list[str]) -> None:
    command = "python -m " + ".".join(Path(sys.argv[0]).with_suffix("").parts[-2:])
    if len(sys.argv) > 1:
        command += " " + shlex.join(sys.argv[1:])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    entry = [f"\n## {title}\n", f"{stamp}; {machine}; `{command}`\n", *lines]
    if not RESULTS.exists():
        entry.insert(0, HEADER)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(entry) + "\n")
