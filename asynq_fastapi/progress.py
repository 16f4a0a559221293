"""A task's live progress as Server-Sent Events: :func:`task_events`."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.responses import StreamingResponse

import asynq
from asynq.progress import open_event_stream
from asynq_fastapi.dependencies import get_asynq_client

__all__ = ["task_events"]


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
    closing it on ``end``. Reports and the end of each attempt a Python worker makes are
    pushed as they happen (a blocking read of the task's progress stream, on one connection
    of the app's client per open stream); other changes of state show after
    ``check_interval`` seconds. When the client goes away the stream stops and the connection
    goes back to the pool.

    Raises:
        HTTPException: 404 when there is no such task (or queue).
    """
    client = get_asynq_client(request)
    try:
        events = await open_event_stream(
            client.redis, queue, task_id, check_interval=check_interval
        )
    except (asynq.TaskNotFoundError, asynq.QueueNotFoundError) as exc:
        raise HTTPException(404, str(exc)) from None
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
