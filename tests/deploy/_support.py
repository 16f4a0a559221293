"""Shared parts of the deployment and fault tests: a worker that records what it ran, and the
checks that nothing was lost.

The handler records every task id it finished in memory (not in Redis, which these tests take
down); "nothing lost" then means every enqueued id was finished and no queue still holds a task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import asynq
from asynq import Task
from asynq.server import Config, Server
from tests.helpers.waiting import wait_until

#: Short intervals so a worker notices a returning Redis quickly; generous shutdown.
FAST = {
    "concurrency": 8,
    "task_check_interval": 0.2,
    "delayed_task_check_interval": 0.5,
    "shutdown_timeout": 2.0,
    "janitor_interval": 1.0,
}

#: How long a test waits for work to drain. The machine running the tests may be very loaded.
DRAIN = 45.0


class Recorder:
    """A handler that notes the id of every task it finishes (a task may run more than once)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.done: set[str] = set()
        self.runs = 0
        self._delay = delay

    async def __call__(self, task: Any) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)
        self.runs += 1
        self.done.add(task.id)

    async def wait_for(self, ids: Iterable[str], within: float = DRAIN) -> None:
        wanted = set(ids)
        await wait_until(lambda: wanted <= self.done, within=within, interval=0.05)


@contextlib.asynccontextmanager
async def serving(
    redis: Any, handler: Any, *, queues: dict[str, int] | None = None, **config: Any
) -> AsyncIterator[Server]:
    """A started worker :class:`Server`, shut down on exit."""
    settings: dict[str, Any] = {**FAST, **config}
    if queues is not None:
        settings["queues"] = queues
    server = Server(redis, Config(**settings))
    await server.start(handler)
    try:
        yield server
    finally:
        await server.shutdown()


async def assert_drained(redis: Any, queues: Iterable[str]) -> None:
    """No queue holds a pending, active, scheduled, retry or archived task."""
    async with asynq.AsyncInspector(redis) as insp:
        for queue in queues:
            info = await insp.get_queue_info(queue)
            left = (info.pending, info.active, info.scheduled, info.retry, info.archived)
            assert left == (0, 0, 0, 0, 0), (queue, info)


async def wait_drained(redis: Any, queues: Iterable[str], within: float = DRAIN) -> None:
    """Wait until :func:`assert_drained` holds (the worker acks its last tasks asynchronously)."""

    async def drained() -> bool:
        try:
            await assert_drained(redis, queues)
        except AssertionError:
            return False
        return True

    await wait_until(drained, within=within, interval=0.2)


async def enqueue_until_known(client: asynq.AsyncClient, task: Task, task_id: str) -> int:
    """Enqueue ``task`` under ``task_id``, retrying lost tries; return how many tries failed."""
    failures = 0
    while True:
        try:
            await client.enqueue(task, task_id=task_id)
            return failures
        except asynq.TaskIDConflictError:
            assert failures, "a conflict on the first try: the id was taken before"
            return failures  # an earlier try reached Redis: the task is there
        except asynq.BrokerConnectionError:
            failures += 1
            await asyncio.sleep(0.05)
