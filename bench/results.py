"""The one writer of bench/RESULTS.md: a section per benchmark, the latest entry first."""

from __future__ import annotations

import os
import platform
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "One section per benchmark (`python -m bench --only NAME`, or `python -m bench.NAME`), the\n"
    "latest run first and its history below it. Every entry is written by `bench/results.py`\n"
    "from the run that measured it: the date, the machine, the exact command, the data and the\n"
    "ratios against a baseline measured in the same run (the machines are shared and noisy, so\n"
    "only ratios within one run compare).\n"
)


def _benchmark() -> str:
    """``bench.NAME`` of the module run with ``python -m``."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if spec is not None and spec.name.startswith("bench."):
        return str(spec.name)
    return "bench." + Path(sys.argv[0]).stem


def insert_entry(text: str, benchmark: str, title: str, entry: list[str]) -> str:
    """``text`` with ``entry`` placed first in the section of ``benchmark`` (added at the end
    when the benchmark has none yet)."""
    block = "\n".join(entry).rstrip("\n") + "\n\n"
    heading = re.search(rf"^## {re.escape(benchmark)}\n", text, re.MULTILINE)
    if heading is None:
        section = f"## {benchmark}\n\n{title}.\n\n{block}"
        return text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    # Before the first entry of the section, or before the next section when it has none.
    following = re.compile(r"^###? ", re.MULTILINE).search(text, heading.end())
    at = len(text) if following is None else following.start()
    body = text[:at].rstrip("\n") + "\n\n" + block + text[at:].lstrip("\n")
    return body.rstrip("\n") + "\n"


def append_results(title: str, lines: list[str]) -> None:
    """Records one run of the calling benchmark, with the date, machine and command."""
    benchmark = _benchmark()
    command = "python -m " + benchmark
    if len(sys.argv) > 1:
        command += " " + shlex.join(sys.argv[1:])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    entry = [f"### {stamp}", "", f"_{title}_", "", f"{machine}; `{command}`", "", *lines]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    RESULTS.write_text(insert_entry(text, benchmark, title, entry), encoding="utf-8")
