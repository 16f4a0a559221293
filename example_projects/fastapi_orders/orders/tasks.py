"""The task functions: arguments and results are Pydantic models, validated in the worker."""

from __future__ import annotations

from pydantic import BaseModel, Field

import asynq
from asynq_fastapi import current_app


class Order(BaseModel):
    item: str
    quantity: int = Field(gt=0)
    email: str


class Receipt(BaseModel):
    item: str
    quantity: int
    total_cents: int


@asynq.task("orders:fulfil", retention=3600, max_retry=3)
async def fulfil(order: Order) -> Receipt:
    """Price the order with the catalog the app's lifespan loaded (the same in a worker)."""
    catalog: dict[str, int] = current_app().state.catalog
    if order.item not in catalog:
        raise asynq.SkipRetry(f"no such item: {order.item}")  # archived, not retried
    return Receipt(
        item=order.item, quantity=order.quantity, total_cents=catalog[order.item] * order.quantity
    )
