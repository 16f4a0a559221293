"""FastAPI apps run by ``asynq worker tests.fastapi.worker_app:...`` in the tests, as users
write them: ``app`` opens a Redis connection in its lifespan (around ``asynq_lifespan``) that
its task functions use, and notes in Redis the process it closed in; ``wrapped`` is ``app``
behind a middleware, which is no app a worker runs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

import asynq
from asynq_fastapi import asynq_lifespan, lifespan_state

tasks = asynq.TaskRegistry()
#: Where a lifespan notes the pid of the process it closed in.
CLOSED_KEY = "worker_app:closed"
#: The pids of the processes that ran a ``worker_app:meet`` task.
MET_KEY = "worker_app:met"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    store = redis.asyncio.Redis.from_url(os.environ["ASYNQ_REDIS_URL"])
    async with asynq_lifespan(tasks=tasks)(app) as asynq_state:
        yield {**asynq_state, "store": store, "opened_in": os.getpid()}
    await store.rpush(CLOSED_KEY, os.getpid())
    await store.aclose()


app = FastAPI(lifespan=lifespan)
wrapped = CORSMiddleware(app, allow_origins=["*"])


@tasks.task("worker_app:record", retention=3600)
async def record(n: int) -> dict[str, int]:
    """Counts ``n`` through the lifespan's connection; says which process ran it and which
    process opened that lifespan."""
    state = lifespan_state()
    await state["store"].incrby("worker_app:total", n)
    return {"pid": os.getpid(), "opened_in": state["opened_in"]}


@tasks.task("worker_app:meet", retention=3600)
async def meet(processes: int) -> dict[str, int]:
    """Waits until ``processes`` processes ran this task. A process running one task at a time
    cannot run two of them at once, so the others must have been other processes."""
    state = lifespan_state()
    await state["store"].sadd(MET_KEY, os.getpid())
    for _ in range(300):
        if await state["store"].scard(MET_KEY) >= processes:
            return {"pid": os.getpid(), "opened_in": state["opened_in"]}
        await asyncio.sleep(0.1)
    raise asynq.SkipRetry(f"fewer than {processes} processes ran the task")
