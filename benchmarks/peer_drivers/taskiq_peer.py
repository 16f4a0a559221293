"""taskiq with taskiq-redis's ``ListQueueBroker`` (its README's first broker: a Redis list, no
acknowledgement). Producer: ``await task.kiq()``. Worker: taskiq's in-process receiver
(``run_receiver_task``) with ``max_async_tasks=10``; no result backend. See ``_common.py``
for the protocol."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

from _common import CONCURRENCY, hit, parse_args, run_async
from taskiq.api import run_receiver_task
from taskiq_redis import ListQueueBroker


async def run() -> None:
    args = parse_args()
    broker = ListQueueBroker(args.redis)

    @broker.task(task_name="noop")
    async def noop() -> None:
        hit()

    await broker.startup()
    await run_async(
        args,
        "taskiq",
        f"{version('taskiq')}, taskiq-redis {version('taskiq-redis')}",
        noop.kiq,
        lambda: run_receiver_task(broker, max_async_tasks=CONCURRENCY),
    )


if __name__ == "__main__":
    asyncio.run(run())
