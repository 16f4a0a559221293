"""``run()``: the blocking entry point stops gracefully on SIGTERM/SIGINT and cleans its keys."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest
import redis

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


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("program", [SCHEDULER, MANAGER], ids=["scheduler", "manager"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_run_stops_on_signal(redis_url: str, r: redis.Redis, program: str, sig: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(program), redis_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: r.zcard("asynq:schedulers") == 1 and r.keys("asynq:scheduler_history:*"))
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "exited cleanly"
    assert r.zcard("asynq:schedulers") == 0
    assert r.keys("asynq:schedulers:*") == []
    assert r.keys("asynq:scheduler_history:*") == []
    assert r.llen("asynq:{default}:pending") >= 1
