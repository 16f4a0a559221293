"""Several worker processes (``asynq worker --processes N``) on a CPU-bound handler.

A worker server is one event loop, so ~1 ms of pure-Python work per task
(:func:`benchmarks.fleet_app.cpu_bound`) keeps one core busy and no more. Each round flushes
Redis, enqueues :data:`TASKS` such tasks, starts ``python -m asynq worker ... --processes N``
(concurrency 10 in each process) and times it until all are processed, as the drain benchmark
does (:func:`benchmarks.worker_drain.drain_once`: the window opens at the first processed task,
so start-up is left out). For N = 1 to 4:

* ``tasks/s`` and ``x 1 proc``, the speed-up over one process (on 2 cores the ceiling is 2;
  3 and 4 processes show what oversubscribing costs);
* ``worker cores``: the CPU time of the supervisor and its worker processes over the window /
  its wall time: how many cores the workers got. On a machine with other work running this
  is the honest figure: the speed-up then also depends on the share of the CPU the scheduler
  gives N processes against the others';
* ``CPU-ms/task``: the same CPU time per task (the handler's ~1 ms plus the worker's own
  cost per task);
* ``redis core``: redis-server's CPU time over the window / its wall time: the share of one
  core Redis needs at that rate (from ``/proc/<pid>/stat``).

Run with ``python -m benchmarks.run --only fleet``. Python only: a Go server runs its
handlers on every core already.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.core import PYTHON, Env, Row, benchmark
from benchmarks.worker_common import CONCURRENCY, WorkerProcess, cpu_seconds, require_proc
from benchmarks.worker_drain import best_round

TASKS = 4_000
PROCESSES = (1, 2, 3, 4)
NAME = "worker CPU-bound ~1 ms, {n} process{es}"


class Fleet(WorkerProcess):
    """The supervisor process; its CPU time is its own plus its live children's."""

    def cpu_seconds(self) -> float:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return cpu_seconds(self.pid) + sum(_cpu_or_zero(int(pid)) for pid in children)


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except FileNotFoundError:  # exited between the listing and the read
        return 0.0


def start_fleet(env: Env, processes: int) -> WorkerProcess:
    """``asynq worker benchmarks.fleet_app:cpu_bound --processes N`` (the CLI users run)."""
    argv = [sys.executable, "-m", "asynq", "--uri", env.redis_url, "worker"]
    argv += ["benchmarks.fleet_app:cpu_bound", "--concurrency", str(CONCURRENCY)]
    argv += ["--processes", str(processes), "--log-level", "warning"]
    return Fleet(argv, pipe=False, label=f"asynq worker --processes {processes}")


@benchmark("worker CPU-bound, 1-4 processes", group="fleet")
def scale_out(env: Env) -> list[Row]:
    """The same drain at 1, 2, 3 and 4 processes."""
    require_proc()
    n = env.count(TASKS, minimum=200)
    rows: list[Row] = []
    single = 0.0
    for processes in PROCESSES:
        d = best_round(env, n, lambda p=processes: start_fleet(env, p))
        single = single or d.tasks_per_sec
        name = NAME.format(n=processes, es="" if processes == 1 else "es")
        rows += [
            Row(name, PYTHON, "tasks_per_sec", d.tasks_per_sec, "tasks/s"),
            Row(name, PYTHON, "speedup_over_1", d.tasks_per_sec / single, "x 1 proc"),
            Row(
                name,
                PYTHON,
                "worker_cores",
                d.cpu_s_per_1k * d.tasks_per_sec / 1000,
                "worker cores",
            ),
            Row(name, PYTHON, "cpu_ms_per_task", d.cpu_s_per_1k, "CPU-ms/task"),
            Row(
                name,
                PYTHON,
                "redis_core_share",
                d.redis_cpu_s_per_1k * d.tasks_per_sec / 1000,
                "redis core",
            ),
        ]
    return rows
