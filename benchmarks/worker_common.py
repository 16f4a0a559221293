"""What the worker benchmarks share: starting one worker process (Python or Go), reading its
CPU time and peak RSS from ``/proc``, and collecting the lines it prints.

The Python worker is ``python -m benchmarks.worker_proc``; the Go ones are the programs in
``tests/go/cmd/bench_srv_*`` (built by :meth:`benchmarks.core.Env.go_program`). Both process the
``default`` queue with concurrency :data:`CONCURRENCY` and log to a temporary file that failure
messages quote.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import redis

from benchmarks.core import Env

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 10
QUEUE = "default"
#: Go v0.26.0's processed counter of the queue (total, never expires).
PROCESSED_KEY = "asynq:{default}:processed"
PENDING_CHANNEL = "asynq:{default}:pending"
#: How long a worker may take to come up.
READY_TIMEOUT = 30.0
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class WorkerProcess:
    """A running worker; ``lines`` receives what it prints on stdout when ``pipe`` was set."""

    def __init__(self, argv: Sequence[str], *, pipe: bool, label: str) -> None:
        self.label = label
        # Kept open for the life of the worker (closed in stop()), which a with-block cannot do.
        self._log = tempfile.NamedTemporaryFile(prefix="asynq-bench-worker-", suffix=".log")  # noqa: SIM115
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.proc = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe else subprocess.DEVNULL,
            stderr=self._log,
        )
        if pipe:
            assert self.proc.stdout is not None
            threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.lines.put(line)

    def check_alive(self) -> None:
        """Raise with the worker's log if it has exited."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.label} exited ({self.proc.returncode}):\n{self.log()}")

    def log(self) -> str:
        """The worker's stderr so far (its last 4,000 characters)."""
        return Path(self._log.name).read_text(errors="replace")[-4000:]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the whole process (all threads) so far."""
        return cpu_seconds(self.pid)

    def peak_rss_mb(self) -> float:
        """Peak resident set size (``VmHWM``) in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def stop(self) -> None:
        """SIGTERM (graceful shutdown in both implementations), then SIGKILL after 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far, from ``/proc``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def start_python(env: Env, *flags: str, pipe: bool = False) -> WorkerProcess:
    """``Server(url, Config(concurrency=10)).run(handler)`` in a fresh interpreter."""
    argv = [sys.executable, "-m", "benchmarks.worker_proc", "--redis", env.redis_url]
    argv += ["--concurrency", str(CONCURRENCY), *flags]
    return WorkerProcess(argv, pipe=pipe, label="python worker")


def start_go(env: Env, program: str, *, pipe: bool = False) -> WorkerProcess:
    """Go program ``program`` (an asynq.Server with ``Concurrency: 10``)."""
    argv = [str(env.go_program(program)), "-redis", env.redis_addr]
    argv += ["-concurrency", str(CONCURRENCY), "-queue", QUEUE]
    return WorkerProcess(argv, pipe=pipe, label=program)


def wait_ready(
    env: Env, worker: WorkerProcess, ready: Callable[[redis.Redis], object], what: str
) -> None:
    """Poll ``ready(r)`` on the benchmark Redis until it is truthy; fail with the worker's
    log if the worker exits or :data:`READY_TIMEOUT` passes first."""
    r = env.raw()
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while not ready(r):
            worker.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{worker.label} never {what}:\n{worker.log()}")
            time.sleep(0.01)
    finally:
        r.close()


def require_proc() -> None:
    """The CPU and RSS figures come from Linux's ``/proc``."""
    if not Path("/proc/self/stat").exists():
        raise RuntimeError("the worker benchmarks read CPU time and RSS from /proc (Linux only)")


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (``p`` in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]
