"""What every benchmark shares: the result row, the registry and the environment it runs in.

A benchmark is a function ``fn(env) -> list[Row]`` (or an ``async def``) registered with
:func:`benchmark`. It gets a flushed Redis of its own, does its timing however it likes and
returns rows. A row is one figure of one implementation: ``Row("enqueue sequential (Client)",
"python", "tasks_per_sec", 14250.0, "tasks/s")``. Rows of the Go reference use the same name,
so the runner can print them side by side.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis

GO_DIR = Path(__file__).resolve().parent.parent / "tests" / "go"

PYTHON = "python"
GO = "go"

#: Metric names and their units, so every benchmark spells them the same way.
TASKS_PER_SEC = ("tasks_per_sec", "tasks/s")
US_PER_TASK = ("us_per_task", "µs/task")
#: Every command Redis ran per task (INFO commandstats delta), the ones scripts run included.
CMDS_PER_TASK = ("redis_cmds_per_task", "cmds/task")
#: Commands the client sent per task (MONITOR, scripts' inner calls left out): for a sequential
#: loop this is the number of round trips per task.
SENT_PER_TASK = ("sent_cmds_per_task", "sent/task")

#: Connection set-up, not work: left out of both command counts.
HANDSHAKE = frozenset({"hello", "client", "auth", "select", "ping", "info", "echo", "monitor"})


@dataclass(frozen=True)
class Row:
    """One measured figure: ``value`` of ``metric`` (in ``unit``) for ``impl`` in ``name``."""

    name: str
    impl: str
    metric: str
    value: float
    unit: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def throughput_rows(
    name: str, impl: str, tasks: int, seconds: float, cmds: float, sent: float | None
) -> list[Row]:
    """The standard rows of a throughput run: tasks/s, µs/task and the two command counts."""
    rows = [
        Row(name, impl, *_metric(TASKS_PER_SEC, tasks / seconds)),
        Row(name, impl, *_metric(US_PER_TASK, seconds / tasks * 1e6)),
        Row(name, impl, *_metric(CMDS_PER_TASK, cmds)),
    ]
    if sent is not None:
        rows.append(Row(name, impl, *_metric(SENT_PER_TASK, sent)))
    return rows


def _metric(spec: tuple[str, str], value: float) -> tuple[str, float, str]:
    return spec[0], value, spec[1]


BenchFn = Callable[["Env"], "list[Row] | Awaitable[list[Row]]"]


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark: ``group`` is what ``--only`` selects (e.g. ``enqueue``)."""

    name: str
    group: str
    fn: BenchFn


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, *, group: str) -> Callable[[BenchFn], BenchFn]:
    """Register ``fn`` under ``name`` (unique) in ``group``.

    A benchmark with a Go reference checks ``env.go_bin`` and leaves its Go rows out when it is
    ``None`` (``--no-go``).
    """

    def register(fn: BenchFn) -> BenchFn:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        REGISTRY[name] = Benchmark(name, group, fn)
        return fn

    return register


@dataclass
class Env:
    """The environment handed to each benchmark.

    Attributes:
        redis_url: a redis-server of the runner's own (flushed before each benchmark).
        scale: multiply task counts by this (``--quick`` makes it small).
        rounds: timed rounds per measurement; benchmarks report the best (like ``timeit``).
    """

    redis_url: str
    redis_port: int
    scale: float = 1.0
    rounds: int = 3
    go_bin: Path | None = None
    _built: set[str] = field(default_factory=set)

    @property
    def redis_addr(self) -> str:
        return f"127.0.0.1:{self.redis_port}"

    def count(self, n: int, minimum: int = 10) -> int:
        """``n`` scaled by ``--quick``."""
        return max(minimum, int(n * self.scale))

    def raw(self) -> redis.Redis:
        """A plain redis-py client on the benchmark Redis (for setup and statistics)."""
        return redis.Redis.from_url(self.redis_url)

    @contextmanager
    def command_counter(self) -> Iterator[CommandCount]:
        """Count the Redis commands run inside the ``with`` block (INFO commandstats delta)."""
        r = self.raw()
        counter = CommandCount(_total_calls(r))
        try:
            yield counter
        finally:
            counter.calls = _total_calls(r) - counter.start
            r.close()

    @contextmanager
    def sent_counter(self) -> Iterator[CommandCount]:
        """Count, with MONITOR, the commands clients send inside the block (not those scripts
        run, not connection set-up). MONITOR slows Redis down: use it around a small untimed
        run, never around a timed one."""
        token = f"asynq-bench-{time.monotonic_ns()}"
        counter = CommandCount(0)
        ready = threading.Event()
        r = self.raw()

        def watch() -> None:
            with r.monitor() as monitor:  # type: ignore[no-untyped-call]
                ready.set()
                while True:
                    entry = monitor.next_command()
                    command = str(entry.get("command", ""))
                    if token in command:
                        return
                    name = command.split(" ", 1)[0].lower()
                    if entry.get("client_type") != "lua" and name not in HANDSHAKE:
                        counter.calls += 1

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        if not ready.wait(10):  # set once the server has acknowledged MONITOR
            raise RuntimeError("MONITOR did not start")
        try:
            yield counter
        finally:
            r.echo(token)
            thread.join(10)
            r.close()

    def go_program(self, name: str) -> Path:
        """Build ``tests/go/cmd/<name>`` (once per run) and return the binary's path."""
        if self.go_bin is None:
            raise RuntimeError("Go benchmarks are disabled (--no-go)")
        path = self.go_bin / name
        if name not in self._built:
            go = shutil.which("go")
            if go is None:
                raise RuntimeError("`go` is not on PATH; install Go or pass --no-go")
            self.go_bin.mkdir(parents=True, exist_ok=True)
            subprocess.run([go, "build", "-o", str(path), f"./cmd/{name}"], cwd=GO_DIR, check=True)
            self._built.add(name)
        return path

    def run_go_json(self, name: str, *args: str) -> dict[str, Any]:
        """Run a Go program and parse the one JSON object it prints."""
        out = subprocess.run(
            [str(self.go_program(name)), *args], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"{name} failed ({out.returncode}): {out.stderr.strip()}")
        result: dict[str, Any] = json.loads(out.stdout)
        return result


@dataclass
class CommandCount:
    """Commands counted by :meth:`Env.command_counter` (``calls`` is set when the block ends)."""

    start: int
    calls: int = 0


def _total_calls(r: redis.Redis) -> int:
    """Commands Redis has run so far (``cmdstat_<name>[|<sub>]``), set-up commands left out."""
    stats: dict[str, Any] = r.info("commandstats")
    return sum(
        int(entry["calls"])
        for key, entry in stats.items()
        if isinstance(entry, dict)
        and key.removeprefix("cmdstat_").split("|")[0].lower() not in HANDSHAKE
    )


def best_of(rounds: int, once: Callable[[], float]) -> float:
    """The shortest of ``rounds`` timings (seconds) of ``once``; noise only ever adds time."""
    return min(once() for _ in range(rounds))


async def best_of_async(rounds: int, once: Callable[[], Awaitable[float]]) -> float:
    """:func:`best_of` for coroutines."""
    return min([await once() for _ in range(rounds)])


def timed(fn: Callable[[], object]) -> float:
    """Wall time of one call of ``fn`` in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def timed_async(work: Awaitable[object]) -> float:
    """Wall time of awaiting ``work`` in seconds."""
    start = time.perf_counter()
    await work
    return time.perf_counter() - start


def call(bench: Benchmark, env: Env) -> list[Row]:
    """Run one benchmark function, sync or async."""
    result = bench.fn(env)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(result: Awaitable[list[Row]]) -> list[Row]:
    return await result


def go_bin_dir() -> Path:
    """Where Go programs are built: ``$ASYNQ_GO_PEER_BIN`` or ``tests/go/bin`` (as the tests)."""
    env = os.environ.get("ASYNQ_GO_PEER_BIN")
    return Path(env).resolve() if env else GO_DIR / "bin"
