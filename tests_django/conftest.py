"""Fixtures of the Django adapter's tests: a real redis-server for the whole session (its URL
in ``$ASYNQ_REDIS_URL``, which the settings and every worker subprocess read), flushed per test;
and, for the modules that ask for it, a 3-master Redis Cluster (:func:`on_cluster`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from asynq import Inspector
from asynq_django import clients, conf
from tests.helpers.redis_procs import RedisClusterProcs, RedisProcess

HERE = Path(__file__).resolve().parent
_redis: list[RedisProcess] = []


def pytest_configure(config: pytest.Config) -> None:
    # Before any test reads the ASYNQ setting: REDIS_URL falls back to this variable.
    proc = RedisProcess()
    _redis.append(proc)
    os.environ["ASYNQ_REDIS_URL"] = proc.url
    conf.reload()  # the app read the settings at start-up, before this URL existed


def pytest_unconfigure(config: pytest.Config) -> None:
    for proc in _redis:
        proc.stop()


@pytest.fixture
def r() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(os.environ["ASYNQ_REDIS_URL"])
    client.flushdb()
    clients.reset()  # a client remembers which queues it registered; the flush forgot them
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _fresh_redis(r: redis.Redis) -> None:
    """Every test starts on an empty Redis."""


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[RedisClusterProcs]:
    """A 3-master Redis Cluster on loopback, one per test module (it takes seconds to form)."""
    procs = RedisClusterProcs()
    yield procs
    procs.stop()


@pytest.fixture
def on_cluster(
    redis_cluster: RedisClusterProcs, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RedisClusterProcs]:
    """The project's Redis is the (flushed) cluster for one test: ``$ASYNQ_REDIS_URL`` is its
    ``redis-cluster://`` URL, here and in every ``manage.py`` subprocess."""
    redis_cluster.flushall()
    monkeypatch.setenv("ASYNQ_REDIS_URL", redis_cluster.url)
    conf.reload()
    yield redis_cluster
    monkeypatch.undo()
    conf.reload()


def _command(*args: str) -> list[str]:
    return [sys.executable, str(HERE / "manage.py"), *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(HERE.parent)}


def manage(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` of the test project in a subprocess; its output is returned."""
    return subprocess.run(
        _command(*args), capture_output=True, text=True, timeout=timeout, env=_env()
    )


@contextlib.contextmanager
def running(*args: str, new_session: bool = False) -> Iterator[subprocess.Popen[str]]:
    """``manage.py`` started in the background (stderr merged into stdout); killed on exit
    from the block unless it ended already. ``new_session``: in a process group of its own,
    which is killed whole."""
    proc = subprocess.Popen(
        _command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
        start_new_session=new_session,
    )
    try:
        yield proc
    finally:
        if new_session:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def stop(proc: subprocess.Popen[str], *signals: signal.Signals) -> str:
    """Send ``signals`` (a moment apart) and return the process's output once it ended."""
    for number, sig in enumerate(signals):
        if number:
            time.sleep(0.3)
        proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    return out


def check_scheduler_enqueues(inspector: Inspector) -> None:
    """Run ``manage.py asynq_scheduler`` until both periodic entries of the test project (the
    setting's ``add`` in ``default``, the code's ``touch`` in ``critical``) have enqueued, stop
    it with SIGTERM, and check it exited 0 having enqueued what the entries say."""

    def both_enqueued() -> bool:
        queues = inspector.queues()
        return {"default", "critical"} <= set(queues) and all(
            inspector.get_queue_info(q).pending for q in ("default", "critical")
        )

    with running("asynq_scheduler") as proc:
        wait_for(both_enqueued)
        out = stop(proc, signal.SIGTERM)
    assert proc.returncode == 0, out
    [added] = inspector.list_pending_tasks("default")[:1]
    assert json.loads(added.payload) == {"args": [1, 2], "kwargs": {}}
    assert inspector.list_pending_tasks("critical")[0].type == "native:touch"


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
