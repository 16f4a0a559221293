"""A small FastAPI app as a user writes it, for the tests that run it in a real process
(uvicorn, ``python -m asynq_fastapi worker``): its own lifespan around ``asynq_lifespan``,
a resource the task functions reuse, routes enqueueing both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

import asynq
from asynq_fastapi import AsynqClient, asynq_lifespan, lifespan_state

tasks = asynq.TaskRegistry()


class Greeting(BaseModel):
    name: str
    times: int = 1


class Greeted(BaseModel):
    text: str
    by: str


class Resources:
    """What the app's lifespan opens: the tasks must get this very object, not a new one."""

    def __init__(self) -> None:
        self.label = "opened-by-lifespan"
        self.closed = False


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    resources = Resources()
    async with asynq_lifespan()(app) as asynq_state:
        yield {**asynq_state, "resources": resources}
    resources.closed = True


app = FastAPI(lifespan=lifespan)


@tasks.task("sample:greet", retention=3600)
async def greet(greeting: Greeting) -> Greeted:
    resources: Resources = lifespan_state()["resources"]
    assert not resources.closed
    return Greeted(text=" ".join([f"hello {greeting.name}"] * greeting.times), by=resources.label)


@app.post("/greet")
async def post_greet(greeting: Greeting) -> dict[str, str]:
    info = await greet.aenqueue(greeting)
    return {"id": info.id, "queue": info.queue}


@app.post("/raw")
async def post_raw(client: AsynqClient) -> dict[str, str]:
    info = await client.enqueue(asynq.Task.from_json("sample:raw", {"n": 1}))
    return {"id": info.id}
