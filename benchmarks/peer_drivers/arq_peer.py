"""arq. Producer: ``ArqRedis.enqueue_job``. Worker: ``arq.Worker`` with ``max_jobs=10`` (its
default) and ``keep_result=0`` (nothing reads the results). See ``_common.py`` for the
protocol."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

from _common import CONCURRENCY, hit, parse_args, run_async
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker


async def noop(ctx: dict[str, Any]) -> None:
    hit()


async def run() -> None:
    args = parse_args()
    settings = RedisSettings.from_dsn(args.redis)
    pool = await create_pool(settings)
    worker = Worker(
        functions=[noop],
        redis_settings=settings,
        max_jobs=CONCURRENCY,
        keep_result=0,
        handle_signals=False,
    )
    await run_async(args, "arq", version("arq"), lambda: pool.enqueue_job("noop"), worker.async_run)


if __name__ == "__main__":
    asyncio.run(run())
