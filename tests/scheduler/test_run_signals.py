"""``run()``: the blocking entry point stops gracefully on SIGTERM/SIGINT and cleans its keys;
a second signal stops it at once; outside the main thread it runs without signal handling."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

import asynq
from asynq.periodic import PeriodicTaskConfig, PeriodicTaskManager
from asynq.scheduler import Scheduler
from tests.helpers.processes import reap

SCHEDULER = """
    import sys, asynq
    from asynq.scheduler import Scheduler
    s = Scheduler(sys.argv[1], heartbeat_interval=0.1)
    s.register("@every 1s", asynq.Task("tick"))
    s.run()
    print("exited cleanly")
"""

MANAGER = """
    import sys, asynq
    from asynq.periodic import PeriodicTaskConfig, PeriodicTaskManager
    m = PeriodicTaskManager(
        lambda: [PeriodicTaskConfig("@every 1s", asynq.Task("tick"))],
        sys.argv[1],
        heartbeat_interval=0.1,
    )
    m.run()
    print("exited cleanly")
"""


StartProgram = Callable[[str], "subprocess.Popen[bytes]"]


@pytest.fixture
def start_program(redis_url: str) -> Iterator[StartProgram]:
    """``start_program(source)``: run the Python ``source`` with the Redis URL as argument
    (killed at teardown if still running)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(program: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(program), redis_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        return proc

    yield start
    reap(procs)


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("program", [SCHEDULER, MANAGER], ids=["scheduler", "manager"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_run_stops_on_signal(
    start_program: StartProgram, r: redis.Redis, program: str, sig: int
) -> None:
    proc = start_program(program)
    wait_for(lambda: r.zcard("asynq:schedulers") == 1 and r.keys("asynq:scheduler_history:*"))
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "exited cleanly"
    assert r.zcard("asynq:schedulers") == 0
    assert r.keys("asynq:schedulers:*") == []
    assert r.keys("asynq:scheduler_history:*") == []
    assert r.llen("asynq:{default}:pending") >= 1


STUCK_HOOK = """
    import asyncio, sys, asynq, redis

    r = redis.Redis.from_url(sys.argv[1])

    async def stuck(task, opts):
        r.set("test:hook", 1)
        await asyncio.sleep(60)  # an enqueue that never finishes
"""

STUCK_SCHEDULER = (
    STUCK_HOOK
    + """
    from asynq.scheduler import Scheduler
    s = Scheduler(sys.argv[1], heartbeat_interval=0.1, pre_enqueue=stuck)
    s.register("@every 1s", asynq.Task("tick"))
    s.run()
    print("exited cleanly")
"""
)

STUCK_MANAGER = (
    STUCK_HOOK
    + """
    from asynq.periodic import PeriodicTaskConfig, PeriodicTaskManager
    m = PeriodicTaskManager(
        lambda: [PeriodicTaskConfig("@every 1s", asynq.Task("tick"))],
        sys.argv[1],
        heartbeat_interval=0.1,
        pre_enqueue=stuck,
    )
    m.run()
    print("exited cleanly")
"""
)


@pytest.mark.parametrize("program", [STUCK_SCHEDULER, STUCK_MANAGER], ids=["scheduler", "manager"])
def test_second_signal_stops_at_once(
    start_program: StartProgram, r: redis.Redis, program: str
) -> None:
    """The first signal waits for the enqueues in flight; the second gives them up."""
    proc = start_program(program)
    wait_for(lambda: r.get("test:hook") and r.zcard("asynq:schedulers") == 1)
    proc.send_signal(signal.SIGTERM)
    # The shutdown withdrew the entries, then waits for the stuck enqueue.
    wait_for(lambda: r.zcard("asynq:schedulers") == 0)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    # Without the second signal this would wait the hook's 60 s.
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "exited cleanly"
    assert b"Second signal: stopping the" in err
    assert r.keys("asynq:scheduler_history:*") == []


def _run_in_a_thread(run: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(15)
    assert not thread.is_alive(), "run() did not return"
    assert errors == []


@pytest.mark.parametrize("kind", ["scheduler", "manager"])
def test_run_outside_the_main_thread(
    redis_url: str, r: redis.Redis, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """No signal handling there: run() says so and still runs until shutdown()."""
    caplog.set_level(logging.WARNING)
    service: Scheduler | PeriodicTaskManager

    async def stop_at_first_tick(task: asynq.Task, opts: dict[str, Any]) -> None:
        asyncio.get_running_loop().create_task(service.shutdown())

    if kind == "scheduler":
        service = Scheduler(redis_url, heartbeat_interval=0.1, pre_enqueue=stop_at_first_tick)
        service.register("@every 1s", asynq.Task("tick"))
    else:
        service = PeriodicTaskManager(
            lambda: [PeriodicTaskConfig("@every 1s", asynq.Task("tick"))],
            redis_url,
            heartbeat_interval=0.1,
            pre_enqueue=stop_at_first_tick,
        )
    _run_in_a_thread(service.run)
    assert service.state == "closed"
    assert r.llen("asynq:{default}:pending") == 1
    assert r.zcard("asynq:schedulers") == 0
    assert any("Cannot handle SIGTERM, SIGINT here" in m for m in caplog.messages)
