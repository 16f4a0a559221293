"""Running a handler once in-process, without Redis or a server.

What :mod:`asynq.testing` offers to unit tests and what eager task functions
(:func:`asynq.eager`) run on: the handler gets a real :class:`ActiveTask` and is called exactly
as the server calls it, and its results are kept in memory.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from asynq._base.clock import SYSTEM_CLOCK, Clock
from asynq._base.codec import TaskMessage
from asynq._task import Task
from asynq.errors import TaskDeadlineExceededError
from asynq.servemux import Handler, call_handler
from asynq.server._active_task import ActiveTask, ResultWriter, TaskContext

__all__ = ["HandlerRun", "run_handler"]


@dataclass(frozen=True, kw_only=True, slots=True)
class HandlerRun:
    """What one handler call did."""

    #: The task as the handler saw it.
    task: ActiveTask
    #: The last result the handler wrote, or ``None``.
    result: bytes | None
    #: What the handler raised (``SkipRetry``, ``RevokeTask``, any failure), or ``None``.
    error: BaseException | None


async def run_handler(
    handler: Handler,
    task: Task,
    *,
    task_id: str | None = None,
    queue: str = "default",
    retry_count: int = 0,
    max_retry: int = 25,
    timeout: float = 1800.0,  # noqa: ASYNC109 - the task's own timeout, applied as the server does
    clock: Clock | None = None,
) -> HandlerRun:
    """Call ``handler`` on ``task`` the way the server would, and report what happened.

    Args:
        handler: A ``ServeMux``, a function (sync or async) or an object with ``process_task``.
        task: The task to hand over.
        task_id: The id the handler sees (default: a new UUID).
        queue: The queue the task seems to come from.
        retry_count: Retries before this attempt (``task.retry_count``).
        max_retry: ``task.max_retry``.
        timeout: Seconds before the attempt fails with ``context deadline exceeded``.
        clock: Where "now" comes from.
    """
    clock = clock or SYSTEM_CLOCK
    msg = TaskMessage(
        type=task.type,
        payload=task.payload,
        headers=dict(task.headers),
        id=task_id or str(uuid.uuid4()),
        queue=queue,
        retry=max_retry,
        retried=retry_count,
        timeout=int(timeout),
    )
    context = TaskContext(clock.now() + timeout, clock)
    written: list[bytes] = []

    async def keep(data: bytes) -> int:
        written.append(data)
        return len(data)

    writer = ResultWriter(msg.id, context, keep, asyncio.get_running_loop())
    active = ActiveTask._create(msg, context, writer)
    error: BaseException | None = None
    try:
        async with asyncio.timeout(timeout):
            await call_handler(handler, active)
    except TimeoutError:
        error = TaskDeadlineExceededError()
        context.end(error)
    except Exception as exc:  # the handler's failure is the result being reported
        error = exc
    finally:
        context.end()
    return HandlerRun(task=active, result=written[-1] if written else None, error=error)
