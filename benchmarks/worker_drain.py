"""Drain benchmark: one worker process, concurrency 10, a no-op handler, 10,000 tasks already
waiting in the ``default`` queue; Python's ``Server`` against Go asynq v0.26.0's
(``tests/go/cmd/bench_srv_drain``) on the same Redis.

Each round flushes Redis, enqueues the tasks with ``Client.enqueue_many``, starts the worker
and polls ``asynq:{default}:processed`` (one GET a millisecond) until it reaches the count.
The throughput and CPU window opens when the poll first sees a processed task, so interpreter
start-up and imports are left out (start-up shows in ``start_to_drained``):

* ``tasks_per_sec``: tasks processed in the window / its wall time;
* ``cpu_s_per_1k``: the worker's user + system CPU time in the window per 1,000 tasks;
* ``redis_cpu_s_per_1k``: the same for redis-server (what each implementation's protocol
  costs Redis; the benchmark's own GETs are in it, a small and equal share);
* ``peak_rss``: the worker's ``VmHWM`` once drained;
* ``redis_cmds_per_task``: every command Redis ran from worker start to drained (INFO
  commandstats; the benchmark's own GETs taken out), scripts' inner calls included, / tasks;
* ``start_to_drained``: wall time from spawning the process to the last task.

The round with the highest throughput is reported (noise only ever slows a round down).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import asynq
from benchmarks.core import GO, PYTHON, Env, Row, benchmark
from benchmarks.worker_common import (
    PROCESSED_KEY,
    QUEUE,
    WorkerProcess,
    cpu_seconds,
    require_proc,
    start_go,
    start_python,
)

TASKS = 10_000
TYPE = "bench:noop"
BATCH = 1_000
POLL_INTERVAL = 0.001
#: A round that takes longer than this is broken, not slow.
ROUND_TIMEOUT = 120.0

DRAIN = "worker drain no-op, concurrency 10"
DRAIN_SYNC = "worker drain no-op, def handler"


@dataclass(frozen=True)
class DrainRound:
    """The figures of one drain round."""

    tasks_per_sec: float
    cpu_s_per_1k: float
    redis_cpu_s_per_1k: float
    peak_rss_mb: float
    cmds_per_task: float
    start_to_drained: float

    def rows(self, name: str, impl: str) -> list[Row]:
        return [
            Row(name, impl, "tasks_per_sec", self.tasks_per_sec, "tasks/s"),
            Row(name, impl, "cpu_s_per_1k_tasks", self.cpu_s_per_1k, "CPU-s/1k"),
            Row(name, impl, "redis_cpu_s_per_1k_tasks", self.redis_cpu_s_per_1k, "redis s/1k"),
            Row(name, impl, "peak_rss_mb", self.peak_rss_mb, "MiB RSS"),
            Row(name, impl, "redis_cmds_per_task", self.cmds_per_task, "cmds/task"),
            Row(name, impl, "start_to_drained_s", self.start_to_drained, "s w/ start"),
        ]


def _fill(env: Env, n: int) -> None:
    r = env.raw()
    r.flushall()
    r.close()
    tasks = [asynq.Task(TYPE, b"") for _ in range(BATCH)]
    with asynq.Client(env.redis_url) as client:
        for start in range(0, n, BATCH):
            client.enqueue_many(tasks[: min(BATCH, n - start)], queue=QUEUE)


def drain_once(env: Env, n: int, start: Callable[[], WorkerProcess]) -> DrainRound:
    """Enqueue ``n`` no-op tasks, start a worker, time it until all are processed."""
    _fill(env, n)
    r = env.raw()
    redis_pid = int(r.info("server")["process_id"])
    gets = 0
    worker: WorkerProcess | None = None
    try:
        with env.command_counter() as cmds:
            spawned, redis_cpu_start = time.perf_counter(), cpu_seconds(redis_pid)
            worker = start()
            first: tuple[float, int, float, float] | None = None
            while True:
                done = int(r.get(PROCESSED_KEY) or 0)
                now = time.perf_counter()
                gets += 1
                if done and first is None:
                    first = (now, done, worker.cpu_seconds(), cpu_seconds(redis_pid))
                if done >= n:
                    cpu, redis_cpu = worker.cpu_seconds(), cpu_seconds(redis_pid)
                    rss = worker.peak_rss_mb()
                    break
                if now - spawned > ROUND_TIMEOUT:
                    raise RuntimeError(
                        f"{worker.label} processed {done}/{n} tasks in {ROUND_TIMEOUT} s:\n"
                        f"{worker.log()}"
                    )
                worker.check_alive()
                time.sleep(POLL_INTERVAL)
    finally:
        r.close()
        if worker is not None:
            worker.stop()
    assert first is not None
    t0, done0, cpu0, redis_cpu0 = first
    if done0 >= n:  # all done at the first look (tiny n): count from spawn instead
        t0, done0, cpu0, redis_cpu0 = spawned, 0, 0.0, redis_cpu_start
    tasks = n - done0
    return DrainRound(
        tasks_per_sec=tasks / (now - t0),
        cpu_s_per_1k=(cpu - cpu0) / tasks * 1000,
        redis_cpu_s_per_1k=(redis_cpu - redis_cpu0) / tasks * 1000,
        peak_rss_mb=rss,
        cmds_per_task=(cmds.calls - gets) / n,
        start_to_drained=now - spawned,
    )


def best_round(env: Env, n: int, start: Callable[[], WorkerProcess]) -> DrainRound:
    """The highest-throughput round of ``env.rounds``."""
    rounds = [drain_once(env, n, start) for _ in range(env.rounds)]
    return max(rounds, key=lambda d: d.tasks_per_sec)


@benchmark(DRAIN, group="worker")
def drain(env: Env) -> list[Row]:
    """Python ``async def`` no-op handler vs Go's ``HandlerFunc`` returning nil."""
    require_proc()
    n = env.count(TASKS, minimum=100)
    rows = best_round(env, n, lambda: start_python(env)).rows(DRAIN, PYTHON)
    if env.go_bin is not None:
        rows += best_round(env, n, lambda: start_go(env, "bench_srv_drain")).rows(DRAIN, GO)
    return rows


@benchmark(DRAIN_SYNC, group="worker")
def drain_sync(env: Env) -> list[Row]:
    """The same with a plain ``def`` handler (runs in a worker thread); Python only."""
    require_proc()
    n = env.count(TASKS, minimum=100)
    return best_round(env, n, lambda: start_python(env, "--sync")).rows(DRAIN_SYNC, PYTHON)
