"""Calls of task-function handles that type-check (``mypy --strict`` must pass)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends

import asynq
from asynq_fastapi import AsynqClient, get_asynq_client


@asynq.task("typing:welcome", queue="critical")
def send_welcome(user_id: int, *, template: str = "default") -> str:
    return f"{user_id}:{template}"


@asynq.task
async def resize(image_id: int, width: int = 800) -> dict[str, int]:
    return {"id": image_id, "width": width}


@asynq.task()
def no_name(flag: bool) -> None: ...


@asynq.task(queue="low", timeout=60)
async def options_only(n: int) -> int:
    return n


registry = asynq.TaskRegistry()


@registry.task("typing:own", max_retry=1)
def own(items: list[str]) -> int:
    return len(items)


@asynq.task("typing:takes-task")
def takes_task(task: asynq.ActiveTask, word: str) -> None:
    print(task.id, word)


def get_prefix() -> str:
    return "order"


@asynq.task("typing:depends")
async def ship(order_id: int, prefix: str = Depends(get_prefix)) -> str:
    return f"{prefix}-{order_id}"


def produce(client: asynq.Client) -> None:
    info: asynq.TaskInfo = send_welcome.enqueue(42)
    send_welcome.enqueue(42, template="short")
    send_welcome.enqueue_in(timedelta(minutes=5), 42)
    send_welcome.using(queue="low", client=client, unique=60).enqueue_at(0, user_id=1)
    task: asynq.Task = resize.task(7, width=100)
    resize.enqueue(7)
    takes_task.enqueue("hi")  # the ActiveTask parameter is not an argument
    ship.enqueue(order_id=1)  # a Depends parameter with its default: left out
    no_name.enqueue(True)
    options_only.using(client=client).enqueue(1)
    send_welcome.using(database="other").using(queue="low").enqueue_on_commit(42)
    count: int = own.result(own.enqueue(["a"]))
    text: str = send_welcome(1)  # a plain call
    welcome_result: str = send_welcome.result(info)
    print(task, text, welcome_result, count)


async def aproduce() -> None:
    info = await resize.aenqueue(1, 2)
    await resize.aenqueue_in(10, 1)
    sizes: dict[str, int] = await resize.aresult(info)  # the awaited return type
    print(sizes)


async def route(client: AsynqClient) -> str:
    """A route's client through the alias is an AsyncClient to type checkers."""
    info: asynq.TaskInfo = await client.enqueue(asynq.Task("typing:route"))
    return info.id


async def explicit_route(
    client: Annotated[asynq.AsyncClient, Depends(get_asynq_client)],
) -> str:
    return (await client.enqueue(asynq.Task("typing:route"))).id
