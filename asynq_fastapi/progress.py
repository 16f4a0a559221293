"""A task's live progress as Server-Sent Events: :func:`task_events`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import HTTPException, Request
from starlette.responses import StreamingResponse

import asynq
from asynq.progress import TaskUpdate, watch_task
from asynq_fastapi.dependencies import get_asynq_client

__all__ = ["task_events"]


def _event(update: TaskUpdate) -> str:
    name = "end" if update.final else "update"
    return f"event: {name}\ndata: {json.dumps(update.as_dict(), separators=(',', ':'))}\n\n"


async def task_events(
    request: Request, queue: str, task_id: str, *, check_interval: float = 1.0
) -> StreamingResponse:
    """Stream a task's state and the progress its handler reports as Server-Sent Events,
    until the task is over; return it from a route::

        @app.get("/orders/{task_id}/events")
        async def order_events(request: Request, task_id: str) -> StreamingResponse:
            return await task_events(request, "default", task_id)

    Each event is ``update`` (then ``end`` last) with the JSON of
    :meth:`asynq.progress.TaskUpdate.as_dict`: ``{"state", "progress": {"done", "total",
    "message", "fraction"}, "final", "error"}``. In a browser: ``new EventSource(url)``,
    closing it on ``end``. Reports are pushed as the handler makes them (a blocking read of
    the task's progress stream, on one connection of the app's client per open stream); when
    the client goes away the stream stops and the connection goes back to the pool.

    Raises:
        HTTPException: 404 when there is no such task (or queue).
    """
    client = get_asynq_client(request)
    updates = watch_task(client.redis, queue, task_id, check_interval=check_interval)
    try:
        first = await anext(updates)
    except (asynq.TaskNotFoundError, asynq.QueueNotFoundError) as exc:
        await updates.aclose()
        raise HTTPException(404, str(exc)) from None

    async def events() -> AsyncIterator[str]:
        try:
            yield _event(first)
            async for update in updates:
                yield _event(update)
        finally:
            await updates.aclose()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
