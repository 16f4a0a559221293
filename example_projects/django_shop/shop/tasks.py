"""The shop's background work, in both styles asynq_django runs.

- ``fulfil_order`` is a Django task (``django.tasks``): its result can be read back with
  ``fulfil_order.get_result(id)`` from any process.
- ``send_receipt`` is an ``@asynq.task`` function on the async ORM; a Go service could consume
  its type ``shop:receipt`` (payload ``{"order_id": 1}``).
"""

from __future__ import annotations

import asynq
from asynq_django.tasks_api import task
from shop.models import Order


@task(queue_name="orders")
def fulfil_order(order_id: int) -> dict[str, object]:
    order = Order.objects.get(pk=order_id)
    order.status = "fulfilled"
    order.save(update_fields=["status"])
    send_receipt.enqueue(order_id)
    return {"order": order_id, "items": order.quantity}


@asynq.task("shop:receipt", queue="low")
async def send_receipt(order_id: int) -> None:
    order = await Order.objects.aget(pk=order_id)
    order.receipt = f"receipt for {order.quantity} x {order.item}"
    await order.asave(update_fields=["receipt"])


@task(queue_name="low")
def count_orders() -> int:
    return Order.objects.count()
