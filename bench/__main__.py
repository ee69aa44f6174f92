"""Every benchmark of pgmetrics, one after the other, each in its own process:

    python -m bench                 # all, full size (about half an hour on 2 cores)
    python -m bench --only hot_key  # one of them

Each prints its figures as ratios against a baseline measured in the same run, says whether
its goal is met, and appends a dated entry to bench/RESULTS.md. None of them fails on a
missed goal: benchmarks measure, tests decide.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

BENCHMARKS: dict[str, list[str]] = {
    "record_cost": [],
    "hot_key": [],
    "histogram": [],
    "storage": [],
    "percentiles": [],
    "summaries": ["--append", "bench/RESULTS.md"],
    "ingest": [],
    "retention": [],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    args = parser.parse_args()
    failed = []
    for name in args.only or BENCHMARKS:
        print(f"\n=== bench.{name}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *BENCHMARKS[name]], check=False
        )
        if proc.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that did not complete: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
