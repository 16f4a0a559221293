"""``asynq.runner``: a worker or a scheduler as a process's main job, without click."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

import asynq
from asynq.runner import load_handler, load_scheduler
from tests.helpers.processes import Children, wait_while_running

ROOT = Path(__file__).resolve().parents[2]

APP = """
from asynq import ServeMux

mux = ServeMux()   # handlers are registered by the module "jobs", imported first
NOT_A_HANDLER = 42


def make_mux():
    return mux
"""

JOBS = """
from app import mux


@mux.task("echo")
def echo(task):
    task.result_writer.write(b"done:" + task.payload)
"""

PROVIDER = """
from asynq import PeriodicTaskConfig, Task


class Provider:
    def get_configs(self):
        return [PeriodicTaskConfig("@every 1s", Task("tick", b"t"), {"queue": "cron"})]


provider = Provider()
"""


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, text in {"app": APP, "jobs": JOBS, "periodic_app": PROVIDER}.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
    for name in ("app", "jobs", "periodic_app"):  # the in-process tests import them afresh
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_* put app_dir on it
    return tmp_path


@pytest.fixture
def spawn(redis_url: str) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    """Run a Python snippet in a child process whose only Redis is the test's (through
    ``asynq.configure``: ``$ASYNQ_REDIS_URL`` points nowhere)."""
    env = {**os.environ, "ASYNQ_REDIS_URL": "redis://127.0.0.1:1/0"}
    head = f"import asynq, sys\nasynq.configure({redis_url!r})\n"
    with Children() as children:
        yield lambda code: children.start(
            [sys.executable, "-c", head + textwrap.dedent(code)], env=env, cwd=ROOT
        )


def test_run_worker_drains_tasks_and_exits_0_on_sigterm(
    spawn: Callable[[str], subprocess.Popen[str]], app_dir: Path, redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as client:
        ids = [client.enqueue(asynq.Task("echo", b"%d" % i), retention=3600).id for i in range(5)]
    proc = spawn(
        f"""
        from asynq.runner import run_worker
        status = run_worker(
            "app:mux",
            {{"CONCURRENCY": 2, "TASK_CHECK_INTERVAL": 0.2}},
            imports=["jobs"],
            app_dir={str(app_dir)!r},
            log_level="info",
        )
        print("click loaded:", "click" in sys.modules)
        sys.exit(status)
        """
    )
    wait_while_running(
        lambda: r.zcard("asynq:{default}:completed") == 5, proc, "the tasks to complete"
    )
    for i, task_id in enumerate(ids):
        assert r.hget(f"asynq:{{default}}:t:{task_id}", "result") == b"done:%d" % i
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "click loaded: False"
    assert "Traceback" not in err


def test_run_scheduler_runs_a_config_provider(
    spawn: Callable[[str], subprocess.Popen[str]], app_dir: Path, r: redis.Redis
) -> None:
    proc = spawn(
        f"""
        from asynq.runner import run_scheduler
        sys.exit(run_scheduler("periodic_app:provider", app_dir={str(app_dir)!r}))
        """
    )
    wait_while_running(lambda: r.llen("asynq:{cron}:pending"), proc, "a periodic enqueue")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        ('run_worker("app:missing", app_dir=APP_DIR)', "has no attribute 'missing'"),
        ('run_worker("no_such_module_xyz:mux")', "could not import module 'no_such_module_xyz'"),
        ('run_worker("app", app_dir=APP_DIR)', 'expected "module:object"'),
        ('run_worker("app:NOT_A_HANDLER", app_dir=APP_DIR)', "is not a handler"),
        ('run_worker("app:mux", {"CONCURENCY": 2}, app_dir=APP_DIR)', "did you mean"),
        ('run_worker("app:mux", imports=["no_such_jobs"], app_dir=APP_DIR)', "no_such_jobs"),
        ('run_worker("app:mux", app_dir=APP_DIR, log_level="loud")', "unknown log level"),
        ('run_scheduler("app:mux", app_dir=APP_DIR)', "is not an asynq Scheduler"),
    ],
)
def test_bad_input_is_one_logged_line_and_status_1(
    spawn: Callable[[str], subprocess.Popen[str]], app_dir: Path, call: str, needle: str
) -> None:
    proc = spawn(
        f"""
        from asynq.runner import run_scheduler, run_worker
        APP_DIR = {str(app_dir)!r}
        sys.exit({call})
        """
    )
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0]


def test_load_handler_takes_objects_strings_and_factories(app_dir: Path) -> None:
    mux = asynq.ServeMux()
    assert load_handler(mux) is mux
    loaded = load_handler("app:mux", app_dir=app_dir, imports=["jobs"])
    assert isinstance(loaded, asynq.ServeMux)
    assert load_handler("app:make_mux", app_dir=app_dir, factory=True) is loaded


def test_load_errors_are_validation_errors(app_dir: Path) -> None:
    with pytest.raises(asynq.ValidationError, match="not the string"):
        load_handler("app:mux", app_dir=app_dir, imports="jobs")
    with pytest.raises(asynq.ValidationError, match="is not a handler"):
        load_handler(42)  # type: ignore[arg-type]
    with pytest.raises(asynq.ValidationError, match="cannot be a factory"):
        load_handler("app:NOT_A_HANDLER", app_dir=app_dir, factory=True)


def test_load_scheduler_builds_a_manager_for_a_provider(app_dir: Path, redis_url: str) -> None:
    manager = load_scheduler("periodic_app:provider", redis=redis_url, app_dir=app_dir)
    assert isinstance(manager, asynq.PeriodicTaskManager)
    scheduler = asynq.Scheduler(redis_url)
    assert load_scheduler(scheduler, redis=redis_url) is scheduler
