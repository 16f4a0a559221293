"""The task a task function is running for: :func:`current_task`.

A context variable, set around the function call by the worker (and by eager mode). The server
runs each handler in its own copy of the context, and a plain ``def`` function in a worker
thread inside a copy of that one, so the variable is the right task in both kinds.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from asynq.server._active_task import ActiveTask

__all__ = ["current_task", "running"]

_current: contextvars.ContextVar[ActiveTask | None] = contextvars.ContextVar(
    "asynq_current_task", default=None
)


def current_task() -> ActiveTask:
    """The :class:`~asynq.ActiveTask` the calling task function is running for.

    Gives the task id, queue, retry count, deadline, cancellation and result writer, in
    ``async def`` and plain ``def`` task functions alike::

        @asynq.task
        def import_feed(url: str) -> None:
            task = asynq.current_task()
            log.info("attempt %d of %s", task.retry_count + 1, task.id)

    Raises:
        RuntimeError: called outside a task function run by a worker or eager mode.
    """
    task = _current.get()
    if task is None:
        raise RuntimeError(
            "asynq.current_task() is only available while a worker (or asynq.eager()) runs a "
            "task function; a direct call of the function has no task"
        )
    return task


@contextlib.contextmanager
def running(task: ActiveTask) -> Iterator[None]:
    """Make ``task`` the current task for the duration of the block."""
    token = _current.set(task)
    try:
        yield
    finally:
        _current.reset(token)
