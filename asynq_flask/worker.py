"""Running an app's task functions on a worker: a fresh app context per task.

:func:`server_config` sets the server's own hooks (``Config.task_wrapper`` and
``Config.thread_wrapper``) so that every task runs inside a fresh ``app.app_context()``, pushed
before the function and popped after it, whatever the outcome. Popping runs the app's
``teardown_appcontext`` functions, which is where Flask-SQLAlchemy removes its session: without
it a worker thread would carry one task's session, and its uncommitted changes, into the next.

The context is pushed where the function runs: for a plain ``def`` function in the worker
thread that calls it (the thread wrapper), so the teardown closes the session in the thread
that used it without blocking the event loop; for an ``async def`` function on the event loop,
in the task's own asyncio task (the task wrapper). Hooks the app configured itself run inside
these: ``ASYNQ_THREAD_WRAPPER`` inside the app context, ``ASYNQ_TASK_WRAPPER`` inside it for
``async def`` functions (for a plain ``def`` function the context is only pushed later, in
the thread).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

from flask import Flask

from asynq import ActiveTask, TaskRegistry
from asynq.servemux import is_async_handler
from asynq.server import Config, TaskWrapper, ThreadWrapper

__all__ = ["server_config"]


def server_config(app: Flask, registry: TaskRegistry, config: Config) -> Config:
    """``config`` with hooks running each of ``registry``'s functions in a fresh app context
    of ``app``; the hooks ``config`` had run inside them (see the module docstring)."""

    def is_async(task: ActiveTask) -> bool:
        fn = registry.get(task.type)
        return fn is not None and is_async_handler(fn)

    return dataclasses.replace(
        config,
        task_wrapper=_async_wrapper(app, is_async, config.task_wrapper),
        thread_wrapper=_thread_wrapper(app, config.thread_wrapper),
    )


def _async_wrapper(app: Flask, is_async: Any, inner: TaskWrapper | None) -> TaskWrapper:
    @contextlib.asynccontextmanager
    async def app_context(task: ActiveTask) -> AsyncIterator[None]:
        with app.app_context() if is_async(task) else contextlib.nullcontext():
            if inner is None:
                yield
                return
            manager = inner(task)
            if isinstance(manager, AbstractAsyncContextManager):
                async with manager:
                    yield
            else:
                with manager:
                    yield

    return app_context


def _thread_wrapper(app: Flask, inner: ThreadWrapper | None) -> ThreadWrapper:
    @contextlib.contextmanager
    def app_context(task: ActiveTask) -> Iterator[None]:
        with app.app_context(), _entered(inner, task):
            yield

    return app_context


def _entered(inner: ThreadWrapper | None, task: ActiveTask) -> AbstractContextManager[Any]:
    return inner(task) if inner is not None else contextlib.nullcontext()
