"""``asynq worker`` and ``asynq scheduler`` as real processes; bad import strings in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import asynq
from asynq.inspector import Inspector
from tests.cli._support import fails
from tests.helpers.processes import Children, wait_while_running

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
    env = {**os.environ, "ASYNQ_REDIS_URL": redis_url}
    with Children() as children:
        yield lambda *args: children.start(
            [sys.executable, "-m", "asynq", "--uri", redis_url, *args], env=env, cwd=ROOT
        )


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
        wait_while_running(
            lambda: insp.get_task_info("critical", info.id).state.value == "completed",
            proc,
            "the task to complete",
        )
        assert insp.get_task_info("critical", info.id).result == b"done:x"
        [server] = wait_while_running(insp.servers, proc, "the server heartbeat")
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
        wait_while_running(
            lambda: insp.get_task_info("default", info.id).result == b"done:f", proc, "the task"
        )
    assert _stop(proc) == 0


def test_worker_imports_modules_first(
    spawn: Callable[..., subprocess.Popen[str]], app_dir: Path, redis_url: str
) -> None:
    (app_dir / "cli_test_jobs.py").write_text(
        "from cli_test_app import mux\n\n"
        "@mux.task('shout')\n"
        "def shout(task):\n"
        "    task.result_writer.write(task.payload.upper())\n"
    )
    with asynq.Client(redis_url) as client:
        info = client.enqueue(asynq.Task("shout", b"hi"), retention=3600)
    proc = spawn(
        "worker", "cli_test_app:mux", "--app-dir", str(app_dir), "--import", "cli_test_jobs"
    )
    with Inspector(redis_url) as insp:
        wait_while_running(
            lambda: insp.get_task_info("default", info.id).result == b"HI", proc, "the task"
        )
    assert _stop(proc) == 0


def test_scheduler_runs_a_config_provider(
    spawn: Callable[..., subprocess.Popen[str]], app_dir: Path, redis_url: str
) -> None:
    (app_dir / "cli_test_provider.py").write_text(
        "from asynq import PeriodicTaskConfig, Task\n\n"
        "def get_configs():\n"
        "    return [PeriodicTaskConfig('@every 1s', Task('beat'), {'queue': 'beats'})]\n\n"
        "class Provider:\n"
        "    get_configs = staticmethod(get_configs)\n"
    )
    proc = spawn("scheduler", "cli_test_provider:Provider", "--factory", "--app-dir", str(app_dir))
    with Inspector(redis_url) as insp:
        tasks = wait_while_running(
            lambda: "beats" in insp.queues() and insp.list_pending_tasks("beats"),
            proc,
            "a periodic enqueue",
        )
        assert tasks[0].type == "beat"
    assert _stop(proc) == 0


def test_scheduler_enqueues(
    spawn: Callable[..., subprocess.Popen[str]], app_dir: Path, redis_url: str
) -> None:
    proc = spawn("scheduler", "cli_test_app:scheduler", "--app-dir", str(app_dir))
    with Inspector(redis_url) as insp:
        tasks = wait_while_running(
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
        (["worker", "cli_test_app:mux", "-I", "no_such_jobs_xyz"], "no_such_jobs_xyz"),
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

    resp = wait_while_running(page, proc, "the dashboard to answer")
    assert resp.status_code == 200
    assert 'href="/ops/queues/shown"' in resp.text and "read-only" in resp.text
    assert 'data-refresh="8.0"' in resp.text
    post = httpx.post(f"http://127.0.0.1:{port}/ops/api/queues/shown:pause", timeout=5)
    assert post.status_code == 405
    assert not r.exists("asynq:{shown}:paused")
    # Bound to loopback without --allowed-host: only the loopback names (no DNS rebinding).
    local = httpx.get(f"http://127.0.0.1:{port}/ops/", headers={"host": f"localhost:{port}"})
    assert local.status_code == 200
    rebound = httpx.get(f"http://127.0.0.1:{port}/ops/", headers={"host": "rebind.example"})
    assert rebound.status_code == 400 and "shown" not in rebound.text
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert _stop(proc) in (0, -signal.SIGTERM)
