"""Every benchmark of pgmetrics, one after the other, each in its own process:

    python -m bench                 # all, full size (about an hour on 2 cores)
    python -m bench --only hot_key  # one of them

bench.reads, bench.backfill and bench.ingest use the public SQL API only (ingest_batch, the
recording functions, fold_events, the summary and quantile functions, set_setting), so they run
unchanged on any schema that keeps that API. Their load time follows ingest_batch's speed: at a
few hundred cells per second, bench.reads at full size loads for most of an hour.

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
    "summaries": [],
    "ingest": [],
    "reads": [],
    "backfill": [],
    "fold_bulk": [],
    "retention": [],
    "partitions": [],
    "fold_pace": [],
    "dashboard": [],
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
