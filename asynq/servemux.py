"""Routing tasks to handlers: :class:`ServeMux`, handler and middleware types.

A *handler* processes one task. It is any of:

- an ``async def`` function taking the task;
- a plain ``def`` function taking the task: the server runs it in a worker thread, inside a copy
  of the caller's :mod:`contextvars` context (a context variable set by a middleware or the
  server's ``task_wrapper`` is visible in the handler; one the handler sets does not leak back),
  and inside the server's ``thread_wrapper``, entered in that thread;
- an object with a ``process_task(task)`` method (sync or async), such as a :class:`ServeMux`.

A handler succeeds by returning and fails by raising. Raise :class:`~asynq.SkipRetry` to
archive the task at once, or :class:`~asynq.RevokeTask` to drop it without retry or archive.

A *middleware* takes the next handler and returns a handler that wraps it. Use
:func:`call_handler` inside an ``async def`` wrapper to call the next handler whatever its kind::

    def log_duration(next_handler):
        async def wrapper(task):
            started = time.monotonic()
            try:
                await call_handler(next_handler, task)
            finally:
                log.info("%s took %.3fs", task.type, time.monotonic() - started)
        return wrapper

A plain ``def`` wrapper also works around a plain ``def`` handler (both run in the worker
thread); it may also return what ``next_handler(task)`` returns, which is awaited if it is a
coroutine.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

from asynq._base.loop_handback import LoopCaller
from asynq._base.wrapping import ThreadWrapper, run_wrapped
from asynq._task import Task
from asynq.errors import HandlerNotFoundError, ValidationError

__all__ = [
    "Handler",
    "HandlerFunc",
    "Middleware",
    "ServeMux",
    "TaskHandler",
    "call_handler",
    "not_found",
    "run_in_handler_thread",
]


@runtime_checkable
class TaskHandler(Protocol):
    """An object that processes tasks (Go's ``Handler`` interface)."""

    def process_task(self, task: Any) -> Awaitable[None] | None:
        """Process ``task``; raise to fail it."""
        ...


#: A function handler: ``def h(task)`` or ``async def h(task)``. The task is the server's
#: :class:`asynq.server.ActiveTask`, a subclass of :class:`~asynq.Task`.
HandlerFunc: TypeAlias = Callable[[Any], Any]
#: Anything the server and :class:`ServeMux` accept as a handler.
Handler: TypeAlias = TaskHandler | HandlerFunc
#: Wraps a handler and returns a handler (Go's ``MiddlewareFunc``).
Middleware: TypeAlias = Callable[[HandlerFunc], Handler]

F = TypeVar("F", bound=HandlerFunc)
R = TypeVar("R")

#: The executor that runs plain ``def`` handlers; the server sets it for each task it runs.
#: ``None`` means the event loop's default executor.
handler_executor: contextvars.ContextVar[Executor | None] = contextvars.ContextVar(
    "asynq_handler_executor", default=None
)
#: ``Config.thread_wrapper``: entered in the worker thread around each plain ``def`` handler
#: call; the server sets it for each task it runs. ``None``: no wrapper.
handler_thread_wrapper: contextvars.ContextVar[ThreadWrapper | None] = contextvars.ContextVar(
    "asynq_handler_thread_wrapper", default=None
)


def _function(handler: Handler) -> HandlerFunc:
    # getattr, not isinstance(TaskHandler): a runtime Protocol check is slow on a hot path.
    process = getattr(handler, "process_task", None)
    if process is not None and callable(process):
        return cast(HandlerFunc, process)
    return cast(HandlerFunc, handler)


def is_async_handler(handler: Handler) -> bool:
    """Whether calling ``handler`` returns a coroutine (so it must not run in a thread)."""
    fn: Any = _function(handler)
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


async def call_handler(handler: Handler, task: Task) -> None:
    """Run ``handler`` on ``task``: await it if async, else run it in the handler executor.

    A plain function runs in a worker thread with a copy of the current context, inside the
    server's ``thread_wrapper`` if it has one. If a plain function returns an awaitable (a sync
    wrapper returning ``next_handler(task)``), that is awaited too.
    """
    fn = _function(handler)
    result = fn(task) if is_async_handler(fn) else await run_in_handler_thread(fn, task)
    if inspect.isawaitable(result):
        await result


async def run_in_handler_thread(fn: Callable[[Task], R], task: Task) -> R:
    """``fn(task)`` as a plain ``def`` handler runs: in the handler executor, with a copy of
    the current context, inside the server's ``thread_wrapper`` if it has one."""
    ctx = contextvars.copy_context()
    executor = handler_executor.get()
    if isinstance(executor, LoopCaller):  # the server's pool: batched hand-back
        return cast(R, await executor.call_for_loop(ctx.run, _call_in_thread, fn, task))
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, ctx.run, _call_in_thread, fn, task)


def _call_in_thread(fn: Callable[[Task], R], task: Task) -> R:
    wrapper = handler_thread_wrapper.get()
    if wrapper is None:
        return fn(task)
    return run_wrapped("thread_wrapper", wrapper, task, lambda: fn(task))


def not_found(task: Task) -> None:
    """The handler for unmatched types: fails with ``handler not found for task "<type>"``."""
    raise HandlerNotFoundError(task.type)


class ServeMux:
    """Dispatches each task to the handler registered for its type (Go's ``ServeMux``).

    A pattern matches a type exactly, or as a prefix: ``"email:"`` handles ``"email:send"``.
    The exact match wins; otherwise the longest matching prefix. A type nothing matches fails
    with :class:`~asynq.errors.HandlerNotFoundError` and is retried like any failure.

    Example::

        mux = ServeMux()

        @mux.task("email:send")
        async def send_email(task):
            ...

        mux.handle_func("image:", resize)   # a plain def; runs in a worker thread
        server.run(mux)
    """

    def __init__(self) -> None:
        self._exact: dict[str, Handler] = {}
        # (pattern, handler) from the longest pattern to the shortest; equal lengths keep
        # registration order, as Go's sorted insert does.
        self._by_length: list[tuple[str, Handler]] = []
        self._middleware: list[Middleware] = []

    def handle(self, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``pattern``.

        Raises:
            ValidationError: the pattern is blank or already registered, or the handler is
                not callable.
        """
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValidationError("asynq: invalid pattern")
        if handler is None or not (callable(handler) or isinstance(handler, TaskHandler)):
            raise ValidationError(f"asynq: handler for {pattern!r} is not callable")
        if pattern in self._exact:
            raise ValidationError(f"asynq: multiple registrations for {pattern}")
        self._exact[pattern] = handler
        index = next(
            (i for i, (p, _) in enumerate(self._by_length) if len(p) < len(pattern)),
            len(self._by_length),
        )
        self._by_length.insert(index, (pattern, handler))

    def handle_func(self, pattern: str, fn: HandlerFunc) -> None:
        """Register the function ``fn`` (sync or async) for ``pattern``."""
        self.handle(pattern, fn)

    def task(self, pattern: str) -> Callable[[F], F]:
        """Decorator form of :meth:`handle_func`; returns the function unchanged."""

        def register(fn: F) -> F:
            self.handle(pattern, fn)
            return fn

        return register

    def use(self, *middleware: Middleware) -> None:
        """Add middleware; the first one added is the outermost wrapper."""
        self._middleware.extend(middleware)

    def match(self, task_type: str) -> tuple[Handler | None, str]:
        """The registered handler for ``task_type`` and its pattern, or ``(None, "")``."""
        handler = self._exact.get(task_type)
        if handler is not None:
            return handler, task_type
        for pattern, candidate in self._by_length:
            if task_type.startswith(pattern):
                return candidate, pattern
        return None, ""

    def handler(self, task: Task) -> tuple[Handler, str]:
        """The handler to run for ``task``, wrapped in the middleware, and its pattern.

        Unmatched types get :func:`not_found` (pattern ``""``), also wrapped.
        """
        matched, pattern = self.match(task.type)
        current: Handler = not_found if matched is None else matched
        for middleware in reversed(self._middleware):
            current = middleware(_function(current))
        return current, pattern

    async def process_task(self, task: Task) -> None:
        """Process ``task`` with its handler, so a mux is itself a handler."""
        handler, _ = self.handler(task)
        await call_handler(handler, task)
