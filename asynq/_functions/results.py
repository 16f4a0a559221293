"""Reading a task function's stored result back: from Redis through the Inspector, or from
an eager run.

A worker stores a non-``None`` return value as JSON in the task's ``result`` field. It is kept
after the task finished only when the task has a ``retention`` (then the task stays in the
``completed`` state for that long); without one the task and its result are deleted at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asynq._functions.arguments import Arguments
from asynq._functions.eager import eager_result
from asynq._task import TaskInfo, TaskState
from asynq.client import AsyncClient, Client
from asynq.errors import (
    FailedPreconditionError,
    QueueNotFoundError,
    TaskNotFoundError,
    ValidationError,
)
from asynq.inspector import AsyncInspector, Inspector

__all__ = ["read_result", "read_result_async"]


def _not_found(queue: str, task_id: str) -> TaskNotFoundError:
    # An unknown queue is just as much "no such task" to someone asking for a result.
    error = TaskNotFoundError(queue, task_id)
    error.add_note("a task keeps its result only when enqueued with a retention")
    return error


def read_result(
    client: Callable[[], Client], queue: str, task_id: str, arguments: Arguments
) -> Any:
    """The decoded result of task ``task_id`` in ``queue`` (an eager run's, else the one in
    the Redis of ``client()``); see :func:`decoded`."""
    info = eager_result(task_id)
    if info is None:
        inspector = Inspector(client().redis)
        try:
            info = inspector.get_task_info(queue, task_id)
        except (TaskNotFoundError, QueueNotFoundError) as exc:
            raise _not_found(queue, task_id) from exc
        finally:
            inspector.close()
    return decoded(info, arguments)


async def read_result_async(
    client: Callable[[], AsyncClient], queue: str, task_id: str, arguments: Arguments
) -> Any:
    """:func:`read_result` for asyncio code."""
    info = eager_result(task_id)
    if info is None:
        inspector = AsyncInspector(client().redis)
        try:
            info = await inspector.get_task_info(queue, task_id)
        except (TaskNotFoundError, QueueNotFoundError) as exc:
            raise _not_found(queue, task_id) from exc
        finally:
            await inspector.close()
    return decoded(info, arguments)


def decoded(info: TaskInfo, arguments: Arguments) -> Any:
    """The result of a completed task, converted to the function's return annotation.

    ``None`` when the function returned ``None`` (nothing was stored).

    Raises:
        ValidationError: the task belongs to another task type, or its result does not decode.
        FailedPreconditionError: the task has not completed (pending, scheduled, active,
            retrying or archived: the message says which, with the last error).
    """
    if info.type != arguments.type_name:
        raise ValidationError(
            f'task {info.id} is a "{info.type}" task, not "{arguments.type_name}"'
        )
    if info.state is not TaskState.COMPLETED:
        text = f'task {info.id} ("{info.type}") is {info.state.value}, not completed: no result'
        if info.last_err:
            text += f" (last error: {info.last_err})"
        raise FailedPreconditionError(text)
    if not info.result:
        return None
    return arguments.decode_result(info.result)
