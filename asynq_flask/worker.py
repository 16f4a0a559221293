"""Running an app's task functions on a worker: :class:`AppContextHandler`.

Every task runs inside a fresh ``app.app_context()``, pushed before the function and popped after
it, whatever the outcome. Popping runs the app's ``teardown_appcontext`` functions, which is
where Flask-SQLAlchemy removes its session: without it a worker thread would carry one task's
session, and its stale objects, into the next task.

The context is pushed where the function runs: for a plain ``def`` function in the worker
thread that calls it (so the teardown happens in the thread that used the session), for an
``async def`` function on the event loop, in the task's own asyncio task.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask

from asynq import ActiveTask, TaskFunction, TaskRegistry, call_handler
from asynq.servemux import is_async_handler

__all__ = ["AppContextHandler"]


class AppContextHandler:
    """A handler running the functions of ``registry``, each inside a fresh app context of
    ``app``.

    A type with no function fails with :class:`asynq.HandlerNotFoundError` (and is retried),
    as with a :class:`asynq.ServeMux`.
    """

    def __init__(self, app: Flask, registry: TaskRegistry) -> None:
        self.app = app
        self.registry = registry

    async def process_task(self, task: ActiveTask) -> None:
        """Run the task's function inside a fresh app context."""
        fn = self.registry[task.type]
        if is_async_handler(fn):
            with self.app.app_context():
                await call_handler(fn, task)
        else:
            await call_handler(functools.partial(self._run_in_context, fn), task)

    def _run_in_context(self, fn: TaskFunction[Any, Any], task: ActiveTask) -> None:
        with self.app.app_context():
            fn.process_task(task)

    def __repr__(self) -> str:
        return f"<AppContextHandler of {self.app.name!r}: {self.registry!r}>"
