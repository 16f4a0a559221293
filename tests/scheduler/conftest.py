"""Fixtures for the scheduler tests: schedulers that are always shut down, and polling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlparse

import pytest

from asynq.scheduler import Scheduler


@pytest.fixture
async def make_scheduler(redis_url: str) -> AsyncIterator[Callable[..., Scheduler]]:
    """``make_scheduler(**kwargs)``: a Scheduler on the test Redis, shut down at teardown."""
    made: list[Scheduler] = []

    def make(**kwargs: Any) -> Scheduler:
        kwargs.setdefault("heartbeat_interval", 0.2)
        scheduler = Scheduler(redis_url, **kwargs)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        await scheduler.shutdown()


@pytest.fixture
def go_redis(redis_url: str) -> list[str]:
    """Flags that point a Go program at the standalone test redis-server."""
    u = urlparse(redis_url)
    return ["-redis", f"{u.hostname}:{u.port}", "-db", (u.path.strip("/") or "0")]
