"""The test project's tasks: django.tasks tasks and one native asynq handler."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asynq import ServeMux
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


@task()
def remember_thread(order_id: int) -> None:
    """Notes the thread it ran in and its database connection's identity."""
    from django.db import connection

    Order.objects.filter(pk=order_id).update(
        note=f"{threading.get_ident()}:{id(connection.connection)}"
    )


mux = ServeMux()


@mux.task("native:touch")
def touch(task: Any) -> None:
    Order.objects.filter(pk=task.json()["order_id"]).update(status="touched")


@mux.task("native:sleep")
async def sleep(task: Any) -> None:
    await asyncio.sleep(60)
