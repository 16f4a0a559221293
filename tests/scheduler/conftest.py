"""Fixtures for the scheduler tests: schedulers that are always shut down, and polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import pytest

from asynq.scheduler import Scheduler


async def wait_until(
    predicate: Callable[[], Any], within: float = 10.0, interval: float = 0.02
) -> Any:
    """Poll ``predicate`` (sync or async) until it returns a truthy value; return that value."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s: {predicate}")
        await asyncio.sleep(interval)


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
