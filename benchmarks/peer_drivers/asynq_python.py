"""This library: ``Client.enqueue`` (sequential), 8 coroutines on one ``AsyncClient``
(concurrent), and a ``Server`` of concurrency 10 with an ``async def`` no-op handler (drain),
all with default settings. See ``_common.py`` for the protocol."""

from __future__ import annotations

import argparse
import asyncio

from _common import CONCURRENCY, hit, parse_args, run_async, run_sync

import asynq
from asynq.server import ActiveTask, Config, Server

LIB = "asynq-python"
TASK = asynq.Task("bench:noop", b"")


async def noop(task: ActiveTask) -> None:
    hit()


def main() -> None:
    args = parse_args()
    if args.scenario == "enqueue_conc":
        asyncio.run(_concurrent(args))
        return
    with asynq.Client(args.redis) as client:
        run_sync(
            args,
            LIB,
            asynq.__version__,
            lambda: client.enqueue(TASK),
            lambda: Server(args.redis, Config(concurrency=CONCURRENCY)).run(noop),
        )


async def _concurrent(args: argparse.Namespace) -> None:
    async with asynq.AsyncClient(args.redis) as client:
        await run_async(args, LIB, asynq.__version__, lambda: client.enqueue(TASK), _no_worker)


async def _no_worker() -> None:
    raise AssertionError("the concurrent scenario runs no worker")


if __name__ == "__main__":
    main()
