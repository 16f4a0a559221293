"""Soak: one worker process runs a long stream of no-op tasks while its memory and open file
descriptors are sampled; both must level off after warm-up instead of growing with the count.

Run as ``python -m benchmarks.soak [--tasks 1000000] [--samples 20]``. A redis-server of its
own is started on a free loopback port (never 6379). The producer keeps at most ``--backlog``
tasks pending (``enqueue_many`` batches), so Redis' memory stays bounded and the worker is never
idle. The worker is ``python -m benchmarks.worker_proc`` (concurrency 10, ``async def`` no-op
handler). Figures come from ``/proc/<pid>/status`` (``VmRSS``) and ``/proc/<pid>/fd``.

This is a measurement, not a test: it prints a table, and a verdict computed from it (RSS
growth between the end of warm-up and the end of the run, and the fd count range).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asynq
from asynq import Task
from benchmarks.core import Env
from benchmarks.worker_common import PROCESSED_KEY, WorkerProcess, require_proc, start_python
from tests.helpers.redis_procs import RedisProcess

#: Tasks per ``enqueue_many`` call.
BATCH = 1000
#: The share of the run treated as warm-up (caches, pools and the allocator settle in it).
WARM_UP = 0.1


@dataclass(frozen=True)
class Sample:
    done: int
    seconds: float
    rss_mib: float
    fds: int


def rss_mib(pid: int) -> float:
    """The resident set size of process ``pid`` now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/<pid>/status")


def open_fds(pid: int) -> int:
    """How many file descriptors process ``pid`` has open now."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def soak(total: int, samples: int, backlog: int) -> list[Sample]:
    """Run ``total`` tasks through one worker; sample it about ``samples`` times."""
    require_proc()
    server = RedisProcess()
    worker: WorkerProcess | None = None
    try:
        env = Env(redis_url=server.url, redis_port=server.port)
        raw = env.raw()
        client = asynq.Client(server.url)
        worker = start_python(env)
        step = max(1, total // samples)
        next_sample = 0
        enqueued = 0
        started = time.monotonic()
        taken: list[Sample] = []
        while True:
            worker.check_alive()
            done = int(raw.get(PROCESSED_KEY) or 0)
            if done >= next_sample:
                taken.append(
                    Sample(
                        done, time.monotonic() - started, rss_mib(worker.pid), open_fds(worker.pid)
                    )
                )
                print(_row(taken[-1]), flush=True)
                next_sample += step
            if done >= total:
                break
            if enqueued < total and enqueued - done < backlog:
                count = min(BATCH, total - enqueued)
                client.enqueue_many([Task("noop")] * count)
                enqueued += count
            else:
                time.sleep(0.05)
        taken.append(
            Sample(done, time.monotonic() - started, rss_mib(worker.pid), open_fds(worker.pid))
        )
        client.close()
        raw.close()
        return taken
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def _row(s: Sample) -> str:
    rate = s.done / s.seconds if s.seconds else 0.0
    return f"{s.done:>10,} {s.seconds:>9.1f} {rate:>9,.0f} {s.rss_mib:>9.1f} {s.fds:>5}"


def verdict(taken: Sequence[Sample], total: int) -> str:
    """RSS and fd figures after warm-up, in one paragraph."""
    settled = [s for s in taken if s.done >= total * WARM_UP] or list(taken)
    first, last = settled[0], settled[-1]
    rss = [s.rss_mib for s in settled]
    fds = [s.fds for s in settled]
    return (
        f"after warm-up ({first.done:,} tasks): RSS {first.rss_mib:.1f} -> {last.rss_mib:.1f} MiB "
        f"(min {min(rss):.1f}, max {max(rss):.1f}; {last.rss_mib - first.rss_mib:+.1f} MiB over "
        f"{last.done - first.done:,} tasks); open fds {min(fds)}..{max(fds)}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    parser.add_argument("--tasks", type=int, default=1_000_000, help="how many no-op tasks")
    parser.add_argument("--samples", type=int, default=20, help="about how many samples")
    parser.add_argument("--backlog", type=int, default=20_000, help="most tasks left pending")
    args = parser.parse_args(argv)
    print(f"asynq {asynq.__version__}, Python {sys.version.split()[0]}, {args.tasks:,} tasks")
    print(f"{'tasks done':>10} {'seconds':>9} {'tasks/s':>9} {'RSS MiB':>9} {'fds':>5}")
    taken = soak(args.tasks, args.samples, args.backlog)
    print(verdict(taken, args.tasks))


if __name__ == "__main__":
    main()
