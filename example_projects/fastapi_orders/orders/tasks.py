"""The task functions: arguments and results are Pydantic models, validated in the worker;
what the app provides comes in through a FastAPI dependency, made in the worker."""

from __future__ import annotations

from fastapi import Depends
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


def get_catalog() -> dict[str, int]:
    """Prices in cents, as the app's lifespan loaded them: one dependency for the routes and
    the task (``current_app()`` is the serving app in a route, the worker's app in a task,
    in a worker process too); tests replace it with ``app.dependency_overrides``."""
    catalog: dict[str, int] = current_app().state.catalog
    return catalog


@asynq.task("orders:fulfil", retention=3600, max_retry=3)
async def fulfil(order: Order, catalog: dict[str, int] = Depends(get_catalog)) -> Receipt:
    """Price the order. Only ``order`` travels in the task; ``catalog`` is made by the
    worker for each run, as FastAPI makes a route's dependencies."""
    if order.item not in catalog:
        raise asynq.SkipRetry(f"no such item: {order.item}")  # archived, not retried
    return Receipt(
        item=order.item, quantity=order.quantity, total_cents=catalog[order.item] * order.quantity
    )
