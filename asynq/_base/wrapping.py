"""Running a handler inside a server-wide hook (``Config.task_wrapper``,
``Config.thread_wrapper``), telling the hook's errors from the handler's.

A hook is a factory called with the task that returns a context manager; the handler runs
inside it. The rules, the same for the sync and the async form:

- the handler's outcome is the task's: an exception the handler raises goes through the hook's
  ``__exit__`` and on, unchanged, even if ``__exit__`` returns true;
- an exception raised by the factory, ``__enter__`` or ``__exit__`` fails the task with
  :class:`~asynq.errors.TaskWrapperError` naming the hook (the hook's exception is the
  ``__cause__``); if ``__enter__`` fails, the handler does not run;
- cancellation (a deadline, a cancel message, shutdown) passes through as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, NoReturn, TypeAlias, TypeVar

from asynq.errors import TaskWrapperError

__all__ = ["TaskWrapper", "ThreadWrapper", "run_wrapped", "run_wrapped_async"]

T = TypeVar("T")

#: ``task_wrapper(task)``: a context manager, sync or async, that every handler runs inside.
TaskWrapper: TypeAlias = Callable[
    [Any], AbstractAsyncContextManager[Any] | AbstractContextManager[Any]
]
#: ``thread_wrapper(task)``: a sync context manager, entered in the worker thread that runs a
#: plain ``def`` handler, around that call.
ThreadWrapper: TypeAlias = Callable[[Any], AbstractContextManager[Any]]


def _outcome(hook: str, raised: BaseException, handler_error: BaseException | None) -> NoReturn:
    """Re-raise what left the ``with`` block: the handler's own error and cancellations as they
    are, anything else as the hook's failure."""
    if raised is handler_error or not isinstance(raised, Exception):
        raise raised
    raise TaskWrapperError(hook, raised) from raised


def run_wrapped(hook: str, wrapper: ThreadWrapper, task: Any, body: Callable[[], T]) -> T:
    """``body()`` inside ``wrapper(task)``; see the module docstring."""
    handler_error: BaseException | None = None
    try:
        with wrapper(task):
            try:
                return body()
            except BaseException as exc:
                handler_error = exc
                raise
    except BaseException as exc:
        _outcome(hook, exc, handler_error)
    assert handler_error is not None  # only a swallowed handler error gets here
    raise handler_error


async def run_wrapped_async(
    hook: str, wrapper: TaskWrapper, task: Any, body: Callable[[], Awaitable[None]]
) -> None:
    """``await body()`` inside ``wrapper(task)``, an async or a sync context manager (the
    latter entered and exited on the event loop); see the module docstring."""
    handler_error: BaseException | None = None

    async def handler() -> None:
        nonlocal handler_error
        try:
            await body()
        except BaseException as exc:
            handler_error = exc
            raise

    try:
        manager = wrapper(task)
        if isinstance(manager, AbstractAsyncContextManager):
            async with manager:
                await handler()
        else:
            with manager:
                await handler()
    except BaseException as exc:
        _outcome(hook, exc, handler_error)
    if handler_error is not None:  # swallowed by the hook: the task still fails with it
        raise handler_error
