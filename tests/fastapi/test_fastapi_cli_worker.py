"""``asynq worker myapp.main:app`` with a FastAPI app, as real processes on a real Redis: the
tasks run inside the app's lifespan (one lifespan per worker process, entered after the fork),
with the core worker's flags; ``python -m asynq_fastapi worker`` takes the same flags; a plain
``asynq worker`` on task modules importing only FastAPI makes their ``Depends`` parameters."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import redis

import asynq
from tests.fastapi import worker_app
from tests.fastapi.processes import ROOT, child, child_env
from tests.helpers.processes import wait_while_running
from tests.helpers.unreachable import assert_burst_refused, nowhere


def run_to_end(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python ARGV`` run to its end (a burst worker)."""
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def asynq_worker(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``asynq worker ARGS`` run to its end, with ``$ASYNQ_REDIS_URL`` set."""
    return run_to_end(["-m", "asynq", "worker", *args], child_env(ASYNQ_REDIS_URL=redis_url))


def completed(redis_url: str, info: asynq.TaskInfo) -> asynq.TaskInfo:
    with asynq.Inspector(redis_url) as inspector:
        done = inspector.get_task_info(info.queue, info.id)
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    return done


def test_burst_drains_the_tasks_inside_the_lifespan_then_exits_0(
    redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as client:
        infos = [worker_app.record.using(client=client).enqueue(n) for n in range(1, 11)]
    done = asynq_worker(redis_url, "tests.fastapi.worker_app:app", "--burst", "-c", "3")
    assert done.returncode == 0, done.stderr
    assert "the queues are drained" in done.stderr
    assert r.get("worker_app:total") == b"55"  # through the connection the lifespan opened
    results = [json.loads(completed(redis_url, info).result) for info in infos]
    [pid] = {result["pid"] for result in results}
    assert {result["opened_in"] for result in results} == {pid}
    assert r.lrange(worker_app.CLOSED_KEY, 0, -1) == [str(pid).encode()]  # and it closed
    with asynq.Inspector(redis_url) as inspector:
        assert inspector.servers() == []


def test_an_app_without_the_adapter_runs_on_the_redis_of_the_flags(redis_url: str) -> None:
    with asynq.Client(redis_url) as client:
        info = client.enqueue(asynq.Task.from_json("plain:greet", {"word": "hi"}), retention=60)
    # No $ASYNQ_REDIS_URL: the --uri flag is the only address there is.
    argv = ["-m", "asynq", "--uri", redis_url, "worker", "tests.fastapi.plain_app:app", "--burst"]
    done = run_to_end(argv, {k: v for k, v in child_env().items() if k != "ASYNQ_REDIS_URL"})
    assert done.returncode == 0, done.stderr
    assert json.loads(completed(redis_url, info).result) == "hi opened-by-plain-lifespan"


def test_a_plain_worker_makes_the_depends_of_modules_importing_only_fastapi(
    redis_url: str,
) -> None:
    with asynq.Client(redis_url) as client:
        # What a producer knowing nothing of the dependencies sends (a Go one, say).
        info = client.enqueue(asynq.Task.from_json("fastapi_only:label", {"n": 3}), retention=60)
    done = asynq_worker(redis_url, "tests.fastapi.fastapi_only_tasks:tasks", "--burst")
    assert done.returncode == 0, done.stderr
    assert json.loads(completed(redis_url, info).result) == "made 3 by a generator"


def test_processes_each_enter_the_lifespan_and_stop_gracefully(
    redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as client:
        meets = [worker_app.meet.using(client=client).enqueue(2) for _ in range(2)]
    argv = ["-m", "asynq", "worker", "tests.fastapi.worker_app:app", "--processes", "2", "-c", "1"]
    with child(argv, ASYNQ_REDIS_URL=redis_url) as proc, asynq.Inspector(redis_url) as inspector:
        finished = lambda: all(  # noqa: E731
            inspector.get_task_info("default", info.id).state == asynq.TaskState.COMPLETED
            for info in meets
        )
        wait_while_running(finished, proc, "both meet tasks")
        # Each server's state lands with its first heartbeat, not necessarily before its task.
        registered = lambda: len(inspector.servers()) == 2  # noqa: E731
        wait_while_running(registered, proc, "both servers' first heartbeats")
        servers = {server.pid for server in inspector.servers()}
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert inspector.servers() == []  # each one deregistered on its way out
    results = [json.loads(completed(redis_url, info).result) for info in meets]
    pids = {result["pid"] for result in results}
    assert len(pids) == 2 and pids == servers and proc.pid not in pids
    # Each process opened the lifespan its tasks used, and closed it on SIGTERM.
    assert all(result["opened_in"] == result["pid"] for result in results)
    assert {int(pid) for pid in r.lrange(worker_app.CLOSED_KEY, 0, -1)} == pids


def test_python_dash_m_asynq_fastapi_takes_the_same_flags(redis_url: str) -> None:
    with asynq.Client(redis_url) as client:
        info = worker_app.record.using(client=client).enqueue(2)
    argv = ["-m", "asynq_fastapi", "worker", "tests.fastapi.worker_app:app", "--burst"]
    argv += ["--tasks", "tests.fastapi.worker_app:tasks", "-Q", "default=1"]
    done = run_to_end(argv, child_env(ASYNQ_REDIS_URL=redis_url))
    assert done.returncode == 0, done.stderr
    assert json.loads(completed(redis_url, info).result)["opened_in"] > 0


@pytest.mark.parametrize("module", ["asynq", "asynq_fastapi"])
def test_burst_without_redis_exits_1_with_one_line(module: str) -> None:
    """An app without the adapter (so no lifespan that pings Redis first): the burst
    worker itself refuses to start."""
    url = nowhere()
    argv = ["-m", module, "worker", "tests.fastapi.plain_app:app", "--burst"]
    done = run_to_end(argv, child_env(ASYNQ_REDIS_URL=url))
    assert done.returncode == 1, done.stderr
    assert_burst_refused(done.stderr, url)


def test_an_object_that_is_no_app_and_no_handler_is_one_error_line(redis_url: str) -> None:
    done = asynq_worker(redis_url, "tests.fastapi.worker_app:wrapped", "--burst")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: 'tests.fastapi.worker_app:wrapped' is not a handler: it")
    assert "takes 3 arguments" in line
