"""Fixtures of the Django adapter's tests: a real redis-server for the whole session (its URL
in ``$ASYNQ_REDIS_URL``, which the settings and every worker subprocess read), flushed per test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from asynq_django import clients, conf
from tests.helpers.redis_procs import RedisProcess

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


def manage(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` of the test project in a subprocess; its output is returned."""
    return subprocess.run(
        [sys.executable, str(HERE / "manage.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
