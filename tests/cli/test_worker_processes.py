"""``asynq worker --processes N``: N supervised worker processes, as real processes on a real
Redis — one server per process, a killed one replaced, signals passed on."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import asynq
from asynq.inspector import Inspector
from asynq.runner import run_worker
from tests.helpers.processes import Children, wait_while_running

ROOT = Path(__file__).resolve().parents[2]

APP = textwrap.dedent(
    """
    import asyncio
    import os

    from asynq.servemux import ServeMux

    mux = ServeMux()


    @mux.task("pid")
    def pid(task):
        task.result_writer.write(str(os.getpid()).encode())


    @mux.task("sleep")
    async def sleep(task):
        await task.result_writer.write_async(b"started")
        await asyncio.sleep(float(task.payload))
        await task.result_writer.write_async(b"slept")
    """
)

Spawn = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def spawn(redis_url: str, tmp_path: Path) -> Iterator[Spawn]:
    (tmp_path / "fleet_test_app.py").write_text(APP)
    env = {**os.environ, "ASYNQ_REDIS_URL": redis_url}
    with Children() as children:

        def start(*args: str) -> subprocess.Popen[str]:
            argv = [sys.executable, "-m", "asynq", "--uri", redis_url, "worker"]
            argv += ["fleet_test_app:mux", "--app-dir", str(tmp_path), *args]
            return children.start(argv, env=env, cwd=ROOT)

        yield start


def _server_pids(insp: Inspector) -> set[int]:
    return {s.pid for s in insp.servers()}


def _wait_for_servers(insp: Inspector, proc: subprocess.Popen[str], n: int) -> set[int]:
    def n_pids() -> set[int] | None:
        pids = _server_pids(insp)
        return pids if len(pids) == n else None

    return wait_while_running(n_pids, proc, f"{n} servers")  # type: ignore[no-any-return]


def _sleeping_task(
    insp: Inspector, proc: subprocess.Popen[str], redis_url: str, seconds: bytes
) -> asynq.TaskInfo:
    """Once both servers are up, a task sleeping ``seconds`` that has started."""
    _wait_for_servers(insp, proc, 2)
    with asynq.Client(redis_url) as client:
        info = client.enqueue(asynq.Task("sleep", seconds), retention=3600)
    wait_while_running(
        lambda: insp.get_task_info("default", info.id).result == b"started", proc, "the start"
    )
    return info


def _stop(proc: subprocess.Popen[str], *signals: signal.Signals) -> tuple[int, str]:
    for sig in signals:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=40)
    return proc.returncode, err


def test_n_processes_are_n_servers_that_all_take_tasks(spawn: Spawn, redis_url: str) -> None:
    proc = spawn("--processes", "3", "-c", "2")
    with Inspector(redis_url) as insp:
        pids = _wait_for_servers(insp, proc, 3)
        assert proc.pid not in pids  # the supervisor runs no server of its own
        assert {s.concurrency for s in insp.servers()} == {2}
        with asynq.Client(redis_url) as client:
            infos = [client.enqueue(asynq.Task("pid"), retention=3600) for _ in range(60)]
        results = [
            wait_while_running(
                lambda i=info: insp.get_task_info("default", i.id).result, proc, "a result"
            )
            for info in infos
        ]
        assert {int(r) for r in results} <= pids
    code, err = _stop(proc, signal.SIGTERM)
    assert code == 0, err
    with Inspector(redis_url) as insp:
        assert insp.servers() == []  # each one deregistered on its way out


def test_a_killed_process_is_replaced(spawn: Spawn, redis_url: str) -> None:
    proc = spawn("--processes", "2")
    with Inspector(redis_url) as insp:
        first = _wait_for_servers(insp, proc, 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        # The killed server's heartbeat entry outlives it for a while; a new pid must appear.
        newcomers = wait_while_running(
            lambda: _server_pids(insp) - first, proc, "a replacement server"
        )
        assert victim not in newcomers
        with asynq.Client(redis_url) as client:
            info = client.enqueue(asynq.Task("pid"), retention=3600)
        wait_while_running(
            lambda: insp.get_task_info("default", info.id).result, proc, "the task to run"
        )
    code, err = _stop(proc, signal.SIGTERM)
    assert code == 0, err
    assert f"pid={victim}) was killed by SIGKILL" in err


def test_workers_stop_when_the_supervisor_is_killed(spawn: Spawn, redis_url: str) -> None:
    proc = spawn("--processes", "2")
    with Inspector(redis_url) as insp:
        pids = _wait_for_servers(insp, proc, 2)
        proc.kill()  # no chance to pass anything on: the kernel tells the children
        proc.communicate(timeout=30)
        try:
            # Each child shuts down gracefully, deregistering its server, and exits (well
            # within the shutdown timeout; the deadline leaves time for the clean-up below).
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if not insp.servers() and not any(_alive(pid) for pid in pids):
                    break
                time.sleep(0.1)
            assert insp.servers() == []
            assert not any(_alive(pid) for pid in pids)
        finally:
            for pid in pids:  # orphans of a failed run must not outlive the test
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, its parent gone) does not count as running.
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"


def test_sigtstp_stops_every_process_taking_tasks(spawn: Spawn, redis_url: str) -> None:
    proc = spawn("--processes", "2")
    with Inspector(redis_url) as insp:
        _wait_for_servers(insp, proc, 2)
        proc.send_signal(signal.SIGTSTP)  # the supervisor keeps running and passes it on
        wait_while_running(
            lambda: {s.status for s in insp.servers()} == {"stopped"}, proc, "stopped servers"
        )
        with asynq.Client(redis_url) as client:
            info = client.enqueue(asynq.Task("pid"), retention=3600)
        time.sleep(1.5)  # not a measurement: time in which a running server would take it
        assert insp.get_task_info("default", info.id).state.value == "pending"
    code, err = _stop(proc, signal.SIGTERM)
    assert code == 0, err


def test_sigterm_lets_running_tasks_finish(spawn: Spawn, redis_url: str) -> None:
    proc = spawn("--processes", "2")
    with Inspector(redis_url) as insp:
        info = _sleeping_task(insp, proc, redis_url, b"2")
        code, err = _stop(proc, signal.SIGTERM)
        assert code == 0, err
        done = insp.get_task_info("default", info.id)
        assert (done.state.value, done.result) == ("completed", b"slept")
        assert insp.servers() == []


def test_a_second_signal_stops_at_once_and_requeues(spawn: Spawn, redis_url: str) -> None:
    proc = spawn("--processes", "2")
    with Inspector(redis_url) as insp:
        info = _sleeping_task(insp, proc, redis_url, b"600")
        # SIGINT as a terminal's Ctrl-C sends it; each child gets it once, as SIGTERM.
        proc.send_signal(signal.SIGINT)
        time.sleep(1)  # not a measurement: lets the graceful stop begin before the second
        code, err = _stop(proc, signal.SIGINT)
        assert code == 0, err
        assert "Second signal: stopping the worker processes at once" in err
        # The server running the 10-minute task hurried (requeued it) instead of waiting.
        assert "Second signal: stopping the worker server at once" in err
        assert insp.get_task_info("default", info.id).state.value == "pending"


def test_run_worker_refuses_a_bad_process_count(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="asynq.runner"):
        assert run_worker(lambda task: None, processes=0) == 1
    assert "processes must be a positive integer, got 0" in caplog.text
