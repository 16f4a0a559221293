"""Run a handler on a task in a unit test, without Redis or a server.

::

    from asynq.testing import run_handler_sync

    def test_resize():
        run = run_handler_sync(mux, asynq.Task.from_json("image:resize", {"id": 1}))
        assert run.error is None
        assert run.result == b"ok"

The handler receives a real :class:`~asynq.server.ActiveTask` (id, queue, retry count, max
retry, deadline, result writer), called exactly as the server calls it: ``async def`` handlers
on the event loop, plain functions in a worker thread, middleware included when ``handler`` is
a :class:`~asynq.ServeMux`. Results are kept in memory instead of Redis.
"""

from __future__ import annotations

import asyncio

from asynq._task import Task
from asynq.servemux import Handler
from asynq.server._inprocess import HandlerRun, run_handler

__all__ = ["HandlerRun", "run_handler", "run_handler_sync"]


def run_handler_sync(handler: Handler, task: Task, **options: object) -> HandlerRun:
    """:func:`run_handler` for synchronous test code (it runs its own event loop).

    Takes the same keyword arguments as :func:`run_handler`.
    """
    return asyncio.run(run_handler(handler, task, **options))  # type: ignore[arg-type]
