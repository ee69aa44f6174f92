"""Per-request cost of recording a route metric, against Prometheus instrumentation.

Run: python -m bench.record_cost [--calls N] [--repeat R] [--no-append]

Measures in one process and one run:
- pgmetrics ``record_route_metric`` on a MemoryMetricsStorage and on a DatabaseMetricsStorage
  buffer (the flusher never runs during the measurement, so no network is involved);
- Prometheus per request: ``Counter.labels(route, method, status).inc()`` plus
  ``Histogram.labels(route, method).observe(seconds)``;
- thread scaling: the per-call cost (wall time / calls) with 8 threads sharing the work,
  against one thread.
Goals: pgmetrics <= 0.35x Prometheus; 8 threads <= 1.5x one thread. Results are appended to
bench/RESULTS.md with the date and the command.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram

from bench.results import append_results
from pgmetrics import DatabaseMetricsStorage, MemoryMetricsStorage

ROUTES = [f"/api/v1/resource{i}/{{id}}" for i in range(20)]
METHODS = ["GET", "POST", "DELETE"]
THREADS = 8

Record = Callable[[str, str, bool, float], None]


def _requests(n: int) -> list[tuple[str, str, bool, float]]:
    return [
        (ROUTES[i % len(ROUTES)], METHODS[i % len(METHODS)], i % 17 != 0, float(i % 250) + 0.5)
        for i in range(n)
    ]


def prometheus_recorder() -> Record:
    registry = CollectorRegistry()
    requests = Counter(
        "http_requests_total", "Requests", ["route", "method", "status"], registry=registry
    )
    durations = Histogram(
        "http_request_duration_seconds", "Durations", ["route", "method"], registry=registry
    )

    def record(route: str, method: str, success: bool, duration_ms: float) -> None:
        requests.labels(route, method, "200" if success else "500").inc()
        durations.labels(route, method).observe(duration_ms / 1000.0)

    return record


def per_call_ns(record: Record, calls: int, repeat: int) -> float:
    """Best of ``repeat`` runs of ``calls`` calls, in nanoseconds per call."""
    work = _requests(calls)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for route, method, success, duration in work:
            record(route, method, success, duration)
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def threaded_per_call_ns(record: Record, calls: int, threads: int, repeat: int) -> float:
    """Wall time per call with ``threads`` threads sharing ``calls`` calls, best of ``repeat``."""
    share = _requests(calls // threads)
    best = float("inf")
    for _ in range(repeat):
        barrier = threading.Barrier(threads + 1)

        def work(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            for route, method, success, duration in share:
                record(route, method, success, duration)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        start = time.perf_counter_ns()
        barrier.wait()
        for worker in workers:
            worker.join()
        best = min(best, (time.perf_counter_ns() - start) / (len(share) * threads))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-append", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the database storage below has no database to reach

    memory = MemoryMetricsStorage()
    database = DatabaseMetricsStorage("host=127.0.0.1 port=9 dbname=none", batch_interval=3600)
    prometheus = prometheus_recorder()

    prom_ns = per_call_ns(prometheus, args.calls, args.repeat)
    memory_ns = per_call_ns(memory.record_route_metric, args.calls, args.repeat)
    database_ns = per_call_ns(database.record_route_metric, args.calls, args.repeat)
    one_ns = threaded_per_call_ns(memory.record_route_metric, args.calls, 1, args.repeat)
    many_ns = threaded_per_call_ns(memory.record_route_metric, args.calls, THREADS, args.repeat)
    prom_many_ns = threaded_per_call_ns(prometheus, args.calls, THREADS, args.repeat)
    database.close(timeout=0)

    ratio_memory = memory_ns / prom_ns
    ratio_database = database_ns / prom_ns
    scaling = many_ns / one_ns
    verdict = {True: "met", False: "NOT met"}
    lines = [
        f"- Prometheus Counter.inc + Histogram.observe: {prom_ns:.0f} ns per request "
        f"({prom_many_ns:.0f} ns at {THREADS} threads)",
        f"- MemoryMetricsStorage.record_route_metric: {memory_ns:.0f} ns "
        f"({ratio_memory:.2f}x Prometheus; goal <= 0.35x: {verdict[ratio_memory <= 0.35]})",
        f"- DatabaseMetricsStorage.record_route_metric (buffer): {database_ns:.0f} ns "
        f"({ratio_database:.2f}x Prometheus; goal <= 0.35x: {verdict[ratio_database <= 0.35]})",
        f"- Thread scaling (memory storage): {one_ns:.0f} ns per call with 1 thread, "
        f"{many_ns:.0f} ns with {THREADS} ({scaling:.2f}x; goal <= 1.5x: "
        f"{verdict[scaling <= 1.5]})",
    ]
    print("\n".join(lines))
    if not args.no_append:
        append_results("Recording cost against Prometheus instrumentation; thread scaling", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
