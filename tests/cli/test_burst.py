"""``asynq worker --burst`` as a real process: it drains the queues, then exits 0 by itself;
without Redis it exits 1 with one line naming the address, never "drained"."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import asynq
from asynq.inspector import Inspector
from asynq.runner import run_worker
from tests.cli import test_run as cli_app
from tests.helpers.unreachable import assert_burst_refused, nowhere

ROOT = Path(__file__).resolve().parents[2]

# The worker app of the other CLI tests, plus a task that enqueues a follow-up.
APP = cli_app.APP + textwrap.dedent(
    """

    from asynq.client import Client


    @mux.task("fan_out")
    def fan_out(task):
        # A follow-up enqueued by the last running task: burst mode must still run it.
        with Client() as client:
            client.enqueue(Task("echo", b"follow-up"), queue="low", retention=3600)
    """
)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "burst_app.py").write_text(APP)
    return tmp_path


def _burst(redis_url: str, app_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asynq", "--uri", redis_url, "worker", "burst_app:mux",
         "--app-dir", str(app_dir), "--burst", *args],
        env={**os.environ, "ASYNQ_REDIS_URL": redis_url},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_burst_processes_every_pending_task_then_exits_0(redis_url: str, app_dir: Path) -> None:
    with asynq.Client(redis_url) as client:
        ids = [
            client.enqueue(asynq.Task("echo", str(i).encode()), retention=3600).id
            for i in range(20)
        ]
        ids += [client.enqueue(asynq.Task("echo", b"low"), queue="low", retention=3600).id]
        client.enqueue(asynq.Task("fan_out", b""), queue="low", retention=3600)
        later = client.enqueue(asynq.Task("echo", b"later"), process_in=3600)
    done = _burst(redis_url, app_dir, "-c", "4", "-Q", "default=2", "-Q", "low=1")
    assert done.returncode == 0, done.stderr
    assert "the queues are drained" in done.stderr
    with Inspector(redis_url) as insp:
        for queue, task_id in [("default", i) for i in ids[:20]] + [("low", ids[20])]:
            assert insp.get_task_info(queue, task_id).state == asynq.TaskState.COMPLETED
        assert insp.get_queue_info("default").pending == 0
        low = insp.get_queue_info("low")
        assert (low.pending, low.active, low.completed) == (0, 0, 3)
        # Not due yet: burst mode leaves it for a later worker rather than waiting an hour.
        assert insp.get_task_info("default", later.id).state == asynq.TaskState.SCHEDULED


def test_burst_on_empty_queues_exits_0_at_once(redis_url: str, app_dir: Path) -> None:
    done = _burst(redis_url, app_dir, "-Q", "nothing-here=1")
    assert done.returncode == 0, done.stderr


def test_burst_refuses_several_processes() -> None:
    assert run_worker(lambda task: None, processes=2, burst=True) == 1


def test_burst_without_redis_exits_1_with_one_line_naming_the_address(app_dir: Path) -> None:
    url = nowhere()
    done = _burst(url, app_dir)
    assert done.returncode == 1, done.stderr
    assert_burst_refused(done.stderr, url)
    # Nothing was started that could log connection errors of its own: one error, the last line.
    [error] = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert error == done.stderr.strip().splitlines()[-1]


def test_run_worker_in_burst_mode_without_redis_returns_1(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = nowhere()
    assert run_worker(lambda task: None, redis=url, burst=True) == 1
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.getMessage().startswith("asynq worker: burst mode cannot reach Redis at ")
    assert not any("drained" in r.getMessage() for r in caplog.records)
