"""Task functions: plain functions that run as tasks (``@asynq.task``).

- :mod:`~asynq._functions.values`: Python values ↔ JSON values by annotation;
- :mod:`~asynq._functions.arguments`: a call's arguments ↔ the payload (one JSON object);
- :mod:`~asynq._functions.handle`: :class:`TaskFunction`, what the decorator returns;
- :mod:`~asynq._functions.registry`: :class:`TaskRegistry`, ``default_registry``, ``task``;
- :mod:`~asynq._functions.context`: :func:`current_task`;
- :mod:`~asynq._functions.eager`: :func:`eager`, running tasks in-process for tests;
- :mod:`~asynq._functions.results`: reading a stored result back;
- :mod:`~asynq._functions.on_commit`: the hook that holds enqueues until a commit;
- :mod:`~asynq._functions.supplied`: the hook through which a framework supplies parameters
  at run time (FastAPI's ``Depends``);
- :mod:`~asynq._functions.installed_sources`: the sources the installed adapters declare
  (``asynq.parameter_sources`` entry points), registered when a parameter carries their objects.
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
from asynq._functions.supplied import (
    ClaimedParameter,
    ParameterSource,
    ParameterSupplier,
    add_parameter_source,
    remove_parameter_source,
)

__all__ = [
    "ClaimedParameter",
    "CommitHook",
    "OnCommit",
    "ParameterSource",
    "ParameterSupplier",
    "TaskDecorator",
    "TaskFunction",
    "TaskFunctionOptions",
    "TaskRegistry",
    "UsingOptions",
    "add_parameter_source",
    "current_task",
    "default_registry",
    "commit_hook",
    "eager",
    "is_eager",
    "remove_parameter_source",
    "set_commit_hook",
    "task",
    "use_commit_hook",
]
