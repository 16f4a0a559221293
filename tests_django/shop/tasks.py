"""The test project's tasks: django.tasks tasks and one native asynq handler."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asgiref.sync import sync_to_async

import asynq
from asynq import ServeMux
from asynq_django import periodic
from asynq_django.tasks_api import task
from tests_django.shop.models import Order


@task()
def mark_paid(order_id: int) -> str:
    order = Order.objects.get(pk=order_id)
    order.status = "paid"
    order.save()
    return order.status


@task(queue_name="critical")
async def ship(order_id: int) -> str:
    order = await Order.objects.aget(pk=order_id)
    order.status = "shipped"
    await order.asave()
    return order.status


@task()
def add(a: int, b: int) -> dict[str, Any]:
    return {"sum": a + b}


@task()
async def add_async(a: int, b: int) -> dict[str, Any]:
    return {"sum": a + b}


@task(max_retry=0)
def explode(message: str) -> None:
    raise ValueError(message)


@task(takes_context=True)
def attempt_number(context: Any, fail_until: int) -> int:
    if context.attempt < fail_until:
        raise RuntimeError(f"attempt {context.attempt}")
    return context.attempt


@task(type="email:send", max_retry=0)
def send_email(to: str) -> str:
    Order.objects.create(status="emailed", note=to)
    return f"sent to {to}"


@asynq.task("native:touch")
def touch(order_id: int) -> None:
    Order.objects.filter(pk=order_id).update(status="touched")


@asynq.task("native:sleep")
async def sleep() -> None:
    await asyncio.sleep(60)


@asynq.task("native:connection")
def connection_state(order_id: int, drop: bool = False) -> None:
    """Notes whether this thread's database connection was open when the task began, then
    (with ``drop``) closes the raw connection behind Django's back, as a database server or
    load balancer drops an idle connection."""
    note_connection(order_id, drop)


@task()
def connection_state_task(order_id: int, drop: bool = False) -> None:
    """:func:`connection_state` as a django.tasks task."""
    note_connection(order_id, drop)


@task()
async def connection_state_async(order_id: int, drop: bool = False) -> None:
    """:func:`connection_state` as an ``async def`` django.tasks task: its ORM work runs in
    asgiref's thread-sensitive thread, as the async ORM's does."""
    await sync_to_async(note_connection)(order_id, drop)


def note_connection(order_id: int, drop: bool) -> None:
    from django.db import connection

    was_open = connection.connection is not None
    order = Order.objects.get(pk=order_id)
    order.note = f"{order.note}{threading.get_ident()}:{was_open};"
    order.save()
    if drop:
        connection.connection.close()


#: A project handler for ASYNQ["HANDLER"] / --handler.
mux = ServeMux()


@mux.task("mux:touch")
def mux_touch(task: Any) -> None:
    Order.objects.filter(pk=task.json()["order_id"]).update(status="mux-touched")


periodic("@every 1s", touch, kwargs={"order_id": 0}, queue="critical")


@task(max_retry=0)
def exit_task() -> None:
    raise SystemExit("This Task failed due to SystemExit")


@task(max_retry=0)
def complex_return_value() -> Any:
    return lambda: True  # neither JSON nor picklable


@task(max_retry=0)
def complex_exception() -> None:
    raise ValueError(ValueError("This task failed"))
