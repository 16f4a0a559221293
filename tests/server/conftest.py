"""Fixtures for the worker-server tests: start servers in the test's event loop, read tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis

import asynq
from asynq._base import keys
from asynq._base.codec import TaskMessage, decode_message
from asynq._broker.drivers import AsyncDriver
from asynq.server import Config, Server
from asynq.server._recoverer import Recoverer


def make_recoverer(driver: AsyncDriver, **overrides: Any) -> Recoverer:
    """A Recoverer of the default queue on the system clock: retries after 60 s, every error a
    failure (``overrides`` replace any of its keyword arguments)."""
    options: dict[str, Any] = {
        "queues": [keys.DEFAULT_QUEUE],
        "retry_delay_func": lambda *a: 60,
        "is_failure": lambda exc: True,
    }
    return Recoverer(
        driver, asynq.SystemClock(), logging.getLogger("test"), **{**options, **overrides}
    )


def read_msg(r: redis.Redis, qname: str, task_id: str) -> TaskMessage:
    data = r.hget(keys.task_key(qname, task_id), "msg")
    assert data is not None, f"no task hash for {task_id}"
    return decode_message(data)


def state(r: redis.Redis, qname: str, task_id: str) -> str | None:
    value = r.hget(keys.task_key(qname, task_id), "state")
    return value.decode() if value is not None else None


class Sleeper:
    """A handler that sleeps 30 s, noting when it started and whether it was cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self, task: Any) -> None:
        self.started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


#: Small intervals so the tests run fast; the behaviour under test does not depend on them.
FAST = {
    "concurrency": 4,
    "task_check_interval": 0.2,
    "delayed_task_check_interval": 0.2,
    "shutdown_timeout": 0.3,
    "janitor_interval": 0.2,
}


@pytest.fixture
def client(redis_url: str) -> Iterator[asynq.Client]:
    c = asynq.Client(redis_url)
    yield c
    c.close()


@pytest.fixture
async def start_server(redis_url: str) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """``await start_server(handler, **config)`` → a started Server (shut down at teardown)."""
    servers: list[Server] = []

    async def start(handler: Any, *, clock: Any = None, **config: Any) -> Server:
        server = Server(redis_url, Config(**{**FAST, **config}), clock=clock)
        await server.start(handler)
        servers.append(server)
        assert server.subscriber is not None
        await asyncio.wait_for(server.subscriber.subscribed.wait(), 5)
        return server

    yield start
    for server in servers:
        await server.shutdown()


@pytest.fixture
def go_server(redis_url: str) -> Iterator[Callable[..., Any]]:
    """``go_server(*flags)`` → a running tests/go/cmd/srv_server (stopped at teardown)."""
    from tests.helpers import gopeer
    from tests.server.gohelpers import addr

    procs: list[gopeer.GoProcess] = []

    def start(*args: str) -> gopeer.GoProcess:
        proc = gopeer.start_go("srv_server", "-redis", addr(redis_url), *args)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()
