"""Latency under load: an open-loop producer offers a fixed rate and the worker's pickup
latency is read at each rate; Python's ``Server`` beside Go asynq v0.26.0's
(``tests/go/cmd/bench_srv_pickup``), both at concurrency 10, on the same Redis.

For each rate in :data:`RATES` (tasks/s) and each worker, Redis is flushed, the worker started
(the Python one awaited on its wake-up channel, the Go one on its heartbeat), and a separate
producer process (:mod:`benchmarks.open_loop_producer`, this library's ``Client``) offers the
rate for :data:`SECONDS`. Each task carries its due time; the handler's first act prints the
clock, so latency = handler start - due time (the enqueue call and any lag of the producer
included). The first :data:`WARMUP_SHARE` of the tasks is left out. Rows per rate:

* ``ms p50`` / ``ms p99``: pickup latency percentiles;
* ``worker core``: the worker's CPU time over the run / its wall time (``/proc``): the share
  of one core it needed to keep up (the producer and Redis share the same 2 cores);
* ``done/s``: tasks picked up / time from the first due time to the last pickup (below the
  offered rate when the worker could not keep up: its latency then grows all through the run).

A worker that cannot keep up shows as a growing p99; Go's server, which polls (sleeping 1 s
after an empty dequeue), shows its poll delay at low rates.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from benchmarks.core import GO, PYTHON, Env, Row, benchmark
from benchmarks.worker_common import (
    WorkerProcess,
    percentile,
    require_proc,
    start_go,
    start_python,
    wait_ready,
)
from benchmarks.worker_pickup import _next_pickup, _wait_subscribed

RATES = (1_000, 5_000, 10_000)
SECONDS = 3.0
WARMUP_SHARE = 0.05
NAME = "open loop {rate:,}/s offered"


def _wait_heartbeat(env: Env, worker: WorkerProcess) -> None:
    """Wait until a (Go) server has written its first heartbeat."""
    wait_ready(env, worker, lambda r: r.zcard("asynq:servers"), "came up")


def offer(env: Env, worker: WorkerProcess, impl: str, rate: int, seconds: float) -> list[Row]:
    """Run the producer at ``rate`` against the started ``worker`` (of ``impl``); its rows."""
    cpu0, wall0 = worker.cpu_seconds(), time.perf_counter()
    producer = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.open_loop_producer", "--redis", env.redis_url),
            *("--rate", str(rate), "--seconds", str(seconds)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if producer.returncode != 0:
        raise RuntimeError(f"producer failed:\n{producer.stderr[-3000:]}")
    sent = int(json.loads(producer.stdout)["sent"])
    pairs = [_next_pickup(worker) for _ in range(sent)]
    cpu, wall = worker.cpu_seconds() - cpu0, time.perf_counter() - wall0
    pairs.sort()
    span = (max(p for _, p in pairs) - pairs[0][0]) / 1e9
    counted = [(p - d) / 1e6 for d, p in pairs[int(len(pairs) * WARMUP_SHARE) :]]
    name = NAME.format(rate=rate)
    return [
        Row(name, impl, "latency_p50_ms", percentile(counted, 50), "ms p50"),
        Row(name, impl, "latency_p99_ms", percentile(counted, 99), "ms p99"),
        Row(name, impl, "worker_core_share", cpu / wall, "worker core"),
        Row(name, impl, "done_per_sec", len(pairs) / span, "done/s"),
    ]


def _measure(env: Env, impl: str, rate: int, seconds: float) -> list[Row]:
    r = env.raw()
    r.flushall()
    r.close()
    if impl == PYTHON:
        worker = start_python(env, "--pickup", pipe=True)
    else:
        worker = start_go(env, "bench_srv_pickup", pipe=True)
    try:
        if impl == PYTHON:
            _wait_subscribed(env, worker)
        else:
            _wait_heartbeat(env, worker)
        return offer(env, worker, impl, rate, seconds)
    finally:
        worker.stop()


@benchmark("open loop, 1k/5k/10k tasks/s", group="latency")
def open_loop(env: Env) -> list[Row]:
    """Each rate offered to a Python worker, then to a Go worker."""
    require_proc()
    seconds = max(0.3, SECONDS * env.scale)
    rows: list[Row] = []
    for rate in RATES:
        rows += _measure(env, PYTHON, rate, seconds)
        if env.go_bin is not None:
            rows += _measure(env, GO, rate, seconds)
    return rows
