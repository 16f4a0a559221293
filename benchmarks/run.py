"""Run the benchmarks and print Python next to Go asynq v0.26.0.

Usage::

    python -m benchmarks.run                      # everything but the opt-in groups
    python -m benchmarks.run --only fleet         # opt-in: worker processes, CPU-bound handler
    python -m benchmarks.run --only latency       # opt-in: open-loop latency at 1k-10k tasks/s
    python -m benchmarks.run --only enqueue       # a group (or a name prefix); repeatable
    python -m benchmarks.run --json out.json      # also write the rows and metadata as JSON
    python -m benchmarks.run --quick --no-go      # a fast smoke run, Python only
    python -m benchmarks.run --list               # what there is

A redis-server of its own is started on a free loopback port (never 6379) and flushed before
each benchmark. See benchmarks/README.md for the targets and how to read the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import import_module
from typing import Any

import asynq
from benchmarks.core import GO, PYTHON, REGISTRY, Benchmark, Env, Row, call, go_bin_dir
from tests.helpers.redis_procs import RedisProcess

#: Modules whose import registers benchmarks; add new ones here.
MODULES = (
    "benchmarks.enqueue",
    "benchmarks.worker",
    "benchmarks.fleet",
    "benchmarks.latency",
)


def _load() -> None:
    for module in MODULES:
        import_module(module)


#: Groups left out of a run without ``--only``: minutes of wall time each, too long for CI's
#: benchmark stage (tests/worker_bench runs them with tiny counts instead).
OPT_IN = frozenset({"fleet", "latency"})


def select(only: Sequence[str]) -> list[Benchmark]:
    """The registered benchmarks matching ``--only`` (group or name prefix), in order; without
    ``--only``, all but the :data:`OPT_IN` groups."""
    if not only:
        return [b for b in REGISTRY.values() if b.group not in OPT_IN]
    return [b for b in REGISTRY.values() if any(b.group == o or b.name.startswith(o) for o in only)]


def format_table(rows: Sequence[Row]) -> str:
    """Rows side by side: one line per (benchmark, metric) with Python and Go columns, and
    Python's share of Go's throughput."""
    cells: dict[tuple[str, str], dict[str, Row]] = {}
    for row in rows:
        cells.setdefault((row.name, row.metric), {})[row.impl] = row
    width = max([len(name) for name, _ in cells] + [9])
    lines = [f"{'benchmark':<{width}}  {'metric':<10} {'python':>12} {'go':>12} {'py/go':>7}"]
    last = None
    for (name, _metric), by_impl in cells.items():
        py, go = by_impl.get(PYTHON), by_impl.get(GO)
        unit = next(iter(by_impl.values())).unit
        ratio = ""
        if py and go and go.value and unit == "tasks/s":
            ratio = f"{py.value / go.value:.2f}"
        label = name if name != last else ""
        last = name
        lines.append(
            f"{label:<{width}}  {unit:<10} {_fmt(py):>12} {_fmt(go):>12} {ratio:>7}".rstrip()
        )
    return "\n".join(lines)


def _fmt(row: Row | None) -> str:
    if row is None:
        return "—"
    if row.value >= 100 or row.value == int(row.value):
        return f"{row.value:,.0f}"
    return f"{row.value:.2f}"


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 0


def _load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def _meta(env: Env, load_before: float) -> dict[str, Any]:
    r = env.raw()
    try:
        server = r.info("server")
    finally:
        r.close()
    go_version = ""
    if env.go_bin is not None:
        go_version = subprocess.run(["go", "version"], capture_output=True, text=True).stdout
    return {
        "asynq": asynq.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": _cpus(),
        "load_average_before": load_before,
        "redis_server": server.get("redis_version"),
        "go": go_version.strip(),
        "rounds": env.rounds,
        "scale": env.scale,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="group or name prefix")
    parser.add_argument("--json", metavar="PATH", help="write the rows and metadata as JSON")
    parser.add_argument("--quick", action="store_true", help="10x fewer tasks, 1 round")
    parser.add_argument("--rounds", type=int, help="timed rounds per measurement (default 3)")
    parser.add_argument("--no-go", action="store_true", help="skip the Go reference")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    _load()
    chosen = select(args.only)
    if args.list:
        for b in chosen:
            print(f"{b.group:<10} {b.name}")
        return 0
    if not chosen:
        parser.error(f"no benchmark matches {args.only}")

    load = _load_average()
    if load > 0.5:
        print(f"note: load average {load:.2f}: figures will be noisy", file=sys.stderr)
    server = RedisProcess()
    try:
        env = Env(
            redis_url=server.url,
            redis_port=server.port,
            scale=0.1 if args.quick else 1.0,
            rounds=args.rounds or (1 if args.quick else 3),
            go_bin=None if args.no_go else go_bin_dir(),
        )
        rows: list[Row] = []
        for bench in chosen:
            print(f"running {bench.name} ...", file=sys.stderr, flush=True)
            r = env.raw()
            r.flushall()
            r.close()
            rows.extend(call(bench, env))
        meta = _meta(env, load)
        print(
            f"asynq {meta['asynq']}, Python {meta['python']}, redis-server "
            f"{meta['redis_server']}, {meta['cpus']} CPUs, load {load:.2f} before the run"
        )
        print(format_table(rows))
        if args.json:
            with open(args.json, "w") as out:
                json.dump({"meta": meta, "rows": [r.as_dict() for r in rows]}, out, indent=2)
                out.write("\n")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
