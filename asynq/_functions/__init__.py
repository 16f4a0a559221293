"""Task functions: plain functions that run as tasks (``@asynq.task``).

- :mod:`~asynq._functions.values`: Python values ↔ JSON values by annotation;
- :mod:`~asynq._functions.arguments`: a call's arguments ↔ the payload (one JSON object);
- :mod:`~asynq._functions.handle`: :class:`TaskFunction`, what the decorator returns;
- :mod:`~asynq._functions.registry`: :class:`TaskRegistry`, ``default_registry``, ``task``;
- :mod:`~asynq._functions.context`: :func:`current_task`;
- :mod:`~asynq._functions.eager`: :func:`eager`, running tasks in-process for tests;
- :mod:`~asynq._functions.results`: reading a stored result back;
- :mod:`~asynq._functions.on_commit`: the hook that holds enqueues until a commit.
"""

from asynq._functions.context import current_task
from asynq._functions.eager import eager, is_eager
from asynq._functions.handle import TaskFunction, TaskFunctionOptions, UsingOptions
from asynq._functions.on_commit import (
    CommitHook,
    OnCommit,
    commit_hook,
    set_commit_hook,
    use_commit_hook,
)
from asynq._functions.registry import TaskDecorator, TaskRegistry, default_registry, task

__all__ = [
    "CommitHook",
    "OnCommit",
    "TaskDecorator",
    "TaskFunction",
    "TaskFunctionOptions",
    "TaskRegistry",
    "UsingOptions",
    "current_task",
    "default_registry",
    "commit_hook",
    "eager",
    "is_eager",
    "set_commit_hook",
    "task",
    "use_commit_hook",
]
