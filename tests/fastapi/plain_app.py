"""A FastAPI app with a lifespan of its own and ``@asynq.task`` functions, and no asynq adapter
(it never imports ``asynq_fastapi``): ``asynq worker tests.fastapi.plain_app:app`` still runs
its tasks inside its lifespan, on the Redis the command line names. The tests do not import it
(its task registers in ``asynq.default_registry``); they enqueue by type name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import asynq

#: What the lifespan opened, while it runs.
opened: dict[str, str] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    opened["label"] = "opened-by-plain-lifespan"
    yield
    opened.clear()


app = FastAPI(lifespan=lifespan)


@asynq.task("plain:greet", retention=3600)
async def greet(word: str) -> str:
    return f"{word} {opened['label']}"
