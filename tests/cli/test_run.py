"""``asynq worker`` and ``asynq scheduler`` as real processes; bad import strings in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import asynq
from asynq.inspector import Inspector
from tests.cli._support import fails

ROOT = Path(__file__).resolve().parents[2]

APP = textwrap.dedent(
    """
    import os

    from asynq import Task
    from asynq.scheduler import Scheduler
    from asynq.servemux import ServeMux

    mux = ServeMux()


    @mux.task("echo")
    def echo(task):
        task.result_writer.write(b"done:" + task.payload)


    def make_mux():
        return mux


    scheduler = Scheduler(os.environ["ASYNQ_REDIS_URL"], heartbeat_interval=1)
    scheduler.register("@every 1s", Task("tick", b"t"), queue="cron")
    """
)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "cli_test_app.py").write_text(APP)
    return tmp_path


@pytest.fixture
def spawn(redis_url: str) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "asynq", "--uri", redis_url, *args],
            cwd=ROOT,
            env={**os.environ, "ASYNQ_REDIS_URL": redis_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)  # also closes the pipes


def _wait_for(check: Callable[[], Any], proc: subprocess.Popen[str], what: str) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"process exited early: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    return proc.returncode


def test_worker_processes_tasks_with_flags(
    spawn: Callable[..., subprocess.Popen[str]], app_dir: Path, redis_url: str
) -> None:
    with asynq.Client(redis_url) as client:
        info = client.enqueue(asynq.Task("echo", b"x"), queue="critical", retention=3600)
    proc = spawn(
        "worker", "cli_test_app:mux", "--app-dir", str(app_dir), "-c", "3",
        "--queue", "critical=2", "-Q", "default", "--strict",
    )  # fmt: skip
    with Inspector(redis_url) as insp:
        _wait_for(
            lambda: insp.get_task_info("critical", info.id).state.value == "completed",
            proc,
            "the task to complete",
        )
        assert insp.get_task_info("critical", info.id).result == b"done:x"
        [server] = _wait_for(insp.servers, proc, "the server heartbeat")
        assert server.queues == {"critical": 2, "default": 1}
        assert (server.concurrency, server.strict_priority) == (3, True)
    assert _stop(proc) == 0


def test_worker_factory(
    spawn: Callable[..., subprocess.Popen[str]], app_dir: Path, redis_url: str
) -> None:
    with asynq.Client(redis_url) as client:
        info = client.enqueue(asynq.Task("echo", b"f"), retention=3600)
    proc = spawn("worker", "cli_test_app:make_mux", "--factory", "--app-dir", str(app_dir))
    with Inspector(redis_url) as insp:
        _wait_for(
            lambda: insp.get_task_info("default", info.id).result == b"done:f", proc, "the task"
        )
    assert _stop(proc) == 0


def test_scheduler_enqueues(
    spawn: Callable[..., subprocess.Popen[str]], app_dir: Path, redis_url: str
) -> None:
    proc = spawn("scheduler", "cli_test_app:scheduler", "--app-dir", str(app_dir))
    with Inspector(redis_url) as insp:
        tasks = _wait_for(
            lambda: "cron" in insp.queues() and insp.list_pending_tasks("cron"),
            proc,
            "a periodic enqueue",
        )
        assert tasks[0].type == "tick"
    assert _stop(proc) == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["worker", "no_colon"], 'expected "module:object"'),
        (["worker", "no_such_module_xyz:mux"], "could not import module"),
        (["worker", "cli_test_app:missing"], "has no attribute"),
        (["worker", "cli_test_app:APP_NOT_HANDLER"], "is not a handler"),
        (["scheduler", "cli_test_app:mux"], "is not an asynq Scheduler"),
    ],
)
def test_bad_targets(
    run: Callable[..., Result],
    app_dir: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    needle: str,
) -> None:
    monkeypatch.setenv("ASYNQ_REDIS_URL", redis_url)
    (app_dir / "cli_test_app.py").write_text(APP + "\nAPP_NOT_HANDLER = 42\n")
    monkeypatch.syspath_prepend(str(app_dir))
    monkeypatch.delitem(sys.modules, "cli_test_app", raising=False)
    err = fails(run(*args, "--app-dir", str(app_dir)))
    assert needle in err


def test_dash_serves_the_dashboard(
    spawn: Callable[..., subprocess.Popen[str]], redis_url: str, r: Any
) -> None:
    import httpx

    from tests.helpers.redis_procs import free_port

    with asynq.Client(redis_url) as client:
        client.enqueue(asynq.Task("t"), queue="shown")
    port = free_port()
    proc = spawn(
        "dash", "--port", str(port), "--read-only", "--root-path", "/ops", "--refresh", "8s"
    )

    def page() -> httpx.Response | None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/ops/", timeout=2)
        except httpx.TransportError:
            return None

    resp = _wait_for(page, proc, "the dashboard to answer")
    assert resp.status_code == 200
    assert 'href="/ops/queues/shown"' in resp.text and "read-only" in resp.text
    assert 'data-refresh="8.0"' in resp.text
    post = httpx.post(f"http://127.0.0.1:{port}/ops/api/queues/shown:pause", timeout=5)
    assert post.status_code == 405
    assert not r.exists("asynq:{shown}:paused")
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert _stop(proc) in (0, -signal.SIGTERM)
