"""The app: ``uvicorn orders.main:app`` (with ``ASYNQ_WORKER=true`` to run tasks in-process) or
``python -m asynq_fastapi worker orders.main:app`` for a worker process of its own."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials

import asynq
from asynq_fastapi import asynq_dashboard_router, asynq_lifespan
from orders.tasks import Order, Receipt, fulfil, get_catalog

basic = HTTPBasic()


def require_admin(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
    """The dashboard's gate: HTTP basic auth, admin / $DASHBOARD_PASSWORD (default "admin")."""
    password = os.environ.get("DASHBOARD_PASSWORD", "admin")
    if not (
        secrets.compare_digest(credentials.username, "admin")
        and secrets.compare_digest(credentials.password, password)
    ):
        raise HTTPException(401, "wrong user or password", headers={"WWW-Authenticate": "Basic"})
    return credentials.username


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    app.state.catalog = {"book": 1200, "pen": 150, "lamp": 4500}  # prices in cents
    async with asynq_lifespan()(app) as asynq_state:
        yield asynq_state


app = FastAPI(title="orders", lifespan=lifespan)
app.include_router(asynq_dashboard_router(prefix="/asynq", dependencies=[Depends(require_admin)]))


@app.post("/orders", status_code=202)
async def place_order(order: Order) -> dict[str, str]:
    """Queue the order; the answer names the task to poll."""
    info = await fulfil.aenqueue(order)
    return {"task_id": info.id}


@app.get("/catalog")
async def catalog(prices: Annotated[dict[str, int], Depends(get_catalog)]) -> dict[str, int]:
    """The prices in cents, through the dependency the task uses too."""
    return prices


@app.get("/orders/{task_id}")
async def order_status(task_id: str) -> dict[str, Any]:
    """The receipt once the order is fulfilled, else its state."""
    try:
        receipt: Receipt = await fulfil.aresult(task_id)
    except asynq.TaskNotFoundError:
        raise HTTPException(404, "no such order") from None
    except asynq.FailedPreconditionError as exc:
        return {"state": "waiting", "detail": str(exc)}
    return {"state": "fulfilled", "receipt": receipt.model_dump()}
