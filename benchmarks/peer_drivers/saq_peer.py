"""SAQ with its Redis queue. Producer: ``Queue.enqueue``. Worker: ``saq.Worker`` with
``concurrency=10`` (its default). See ``_common.py`` for the protocol."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

from _common import CONCURRENCY, hit, parse_args, run_async
from saq import Queue, Worker


async def noop(ctx: dict[str, Any]) -> None:
    hit()


async def run() -> None:
    args = parse_args()
    queue = Queue.from_url(args.redis)
    await queue.connect()
    worker = Worker(queue, functions=[noop], concurrency=CONCURRENCY)
    await run_async(args, "saq", version("saq"), lambda: queue.enqueue("noop"), worker.start)


if __name__ == "__main__":
    asyncio.run(run())
