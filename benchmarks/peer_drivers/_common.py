"""What every peer driver shares. A driver is a script run by the Python of its peer's own venv
(so it imports nothing of this repository but this file), as::

    python benchmarks/peer_drivers/<peer>.py SCENARIO --redis URL --n N [--rounds R]

and prints one JSON object: ``{"library": ..., "version": ..., "tasks_per_sec": ...,
"cpu_s_per_1k": ...}`` (CPU only for the drain). Scenarios:

* ``enqueue_seq``: one producer enqueues N no-op tasks one at a time (best of R rounds, after
  one untimed enqueue that opens connections);
* ``enqueue_conc``: the same with :data:`PRODUCERS` concurrent producers sharing one client
  (threads for a blocking client, coroutines for an asyncio one);
* ``drain``: N no-op tasks are enqueued (untimed), then a worker of concurrency
  :data:`CONCURRENCY` is started in this process; the clock and the process CPU time are
  read at the first handler call and at the N-th, which prints the result and ends the process
  at once (``os._exit``): a worker's shutdown is not part of a drain.

A driver gives :func:`run_sync` (blocking client) or :func:`run_async` (asyncio client) its
library's one enqueue call and its worker; the handler it registers calls :func:`hit`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

_finish: Finish | None = None

PRODUCERS = 8
CONCURRENCY = 10
#: A drain slower than this is broken, not slow.
DRAIN_TIMEOUT = 300.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["enqueue_seq", "enqueue_conc", "drain"])
    parser.add_argument("--redis", required=True, help="redis:// URL")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def emit(library: str, version: str, **figures: float) -> None:
    """Print the result line straight to fd 1 (a worker may have redirected ``sys.stdout``
    to its logger, as Celery's does)."""
    line = json.dumps({"library": library, "version": version, **figures}) + "\n"
    os.write(1, line.encode())


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


class Finish:
    """Counts handler calls; at the ``n``-th prints the drain's figures and ends the process.

    Thread-safe: thread-pool workers call :meth:`hit` concurrently.
    """

    def __init__(self, library: str, version: str, n: int) -> None:
        self.library, self.version, self.n = library, version, n
        self.count = 0
        self.start: tuple[float, float] | None = None
        self._lock = threading.Lock()
        watchdog = threading.Timer(DRAIN_TIMEOUT, self._timeout)
        watchdog.daemon = True
        watchdog.start()

    def hit(self) -> None:
        with self._lock:
            self.count += 1
            if self.start is None:
                self.start = (time.perf_counter(), _cpu())
                return
            if self.count < self.n:
                return
            wall, cpu = time.perf_counter() - self.start[0], _cpu() - self.start[1]
        done = self.n - 1  # the first call opened the window
        emit(self.library, self.version, tasks_per_sec=done / wall, cpu_s_per_1k=cpu / done * 1000)
        sys.stderr.flush()
        os._exit(0)

    def _timeout(self) -> None:
        print(f"drain: {self.count}/{self.n} tasks in {DRAIN_TIMEOUT} s", file=sys.stderr)
        sys.stderr.flush()
        os._exit(3)


def best_sync(rounds: int, n: int, once: Callable[[int], None]) -> float:
    """Highest tasks/s of ``rounds`` runs of ``once(n)`` (noise only ever slows one down)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        once(n)
        best = min(best, time.perf_counter() - start)
    return n / best


def in_threads(n: int, enqueue: Callable[[], Any]) -> None:
    """``n`` calls of ``enqueue`` shared by :data:`PRODUCERS` threads."""

    def share(k: int) -> None:
        for _ in range(k):
            enqueue()

    sizes = [n // PRODUCERS + (1 if i < n % PRODUCERS else 0) for i in range(PRODUCERS)]
    threads = [threading.Thread(target=share, args=(k,)) for k in sizes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


async def best_async(rounds: int, n: int, once: Callable[[int], Awaitable[None]]) -> float:
    """:func:`best_sync` for coroutines."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        await once(n)
        best = min(best, time.perf_counter() - start)
    return n / best


async def in_coroutines(n: int, enqueue: Callable[[], Awaitable[Any]]) -> None:
    """``n`` awaits of ``enqueue()`` shared by :data:`PRODUCERS` coroutines."""
    import asyncio

    async def share(k: int) -> None:
        for _ in range(k):
            await enqueue()

    sizes = [n // PRODUCERS + (1 if i < n % PRODUCERS else 0) for i in range(PRODUCERS)]
    await asyncio.gather(*(share(k) for k in sizes))


def hit() -> None:
    """A handler was called (the drain counts it)."""
    assert _finish is not None, "hit() outside a drain"
    _finish.hit()


def _start_drain(args: argparse.Namespace, library: str, version: str) -> None:
    global _finish
    _finish = Finish(library, version, args.n)


def run_sync(
    args: argparse.Namespace,
    library: str,
    version: str,
    enqueue: Callable[[], Any],
    work: Callable[[], Any],
) -> None:
    """The scenario ``args`` names, for a blocking client: ``enqueue()`` sends one task,
    ``work()`` runs the worker (forever: the N-th :func:`hit` ends the process)."""
    enqueue()  # untimed: connections opened, scripts loaded
    if args.scenario == "enqueue_seq":
        rate = best_sync(args.rounds, args.n, lambda n: _repeat(n, enqueue))
        emit(library, version, tasks_per_sec=rate)
    elif args.scenario == "enqueue_conc":
        rate = best_sync(args.rounds, args.n, lambda n: in_threads(n, enqueue))
        emit(library, version, tasks_per_sec=rate)
    else:
        _repeat(args.n - 1, enqueue)
        _start_drain(args, library, version)
        work()


async def run_async(
    args: argparse.Namespace,
    library: str,
    version: str,
    enqueue: Callable[[], Awaitable[Any]],
    work: Callable[[], Awaitable[Any]],
) -> None:
    """:func:`run_sync` for an asyncio client and worker."""
    await enqueue()

    async def sequential(n: int) -> None:
        for _ in range(n):
            await enqueue()

    if args.scenario == "enqueue_seq":
        emit(library, version, tasks_per_sec=await best_async(args.rounds, args.n, sequential))
    elif args.scenario == "enqueue_conc":
        rate = await best_async(args.rounds, args.n, lambda n: in_coroutines(n, enqueue))
        emit(library, version, tasks_per_sec=rate)
    else:
        await sequential(args.n - 1)
        _start_drain(args, library, version)
        await work()


def _repeat(n: int, fn: Callable[[], Any]) -> None:
    for _ in range(n):
        fn()
