"""Calls that type checkers must refuse; each line's expected mypy error is in the test."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

import asynq
from asynq_fastapi import AsynqClient


@asynq.task("typing:bad")
def send_welcome(user_id: int, *, template: str = "default") -> str:
    return str(user_id)


@asynq.task("typing:bad-task")
def takes_task(task: asynq.ActiveTask, word: str) -> None: ...


def get_prefix() -> str:
    return "order"


@asynq.task("typing:bad-depends")
async def ship(order_id: int, prefix: Annotated[str, Depends(get_prefix)]) -> None: ...


send_welcome.enqueue("42")  # E: wrong argument type
send_welcome.enqueue(42, templat="x")  # E: unknown argument name
send_welcome.enqueue()  # E: missing argument
send_welcome.using(queue="low").task(42, template=3)  # E: wrong keyword type
takes_task.enqueue(1)  # E: the task parameter is not an argument
send_welcome.using(database=1).enqueue(42)  # E: a database is named by a str
number: int = send_welcome.result("id")  # E: wrong result type
ship.enqueue(order_id=1)  # E: an Annotated Depends parameter without a default is required


async def route(client: AsynqClient) -> None:
    await client.enqueue("typing:route")  # E: the alias is an AsyncClient, not Any
