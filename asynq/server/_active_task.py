"""What a handler receives: :class:`ActiveTask`, a :class:`~asynq.Task` with the metadata Go
puts in the handler's ``context.Context``, and its :class:`ResultWriter`.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from asynq._base.clock import Clock
from asynq._base.codec import TaskMessage
from asynq._task import Task
from asynq.errors import (
    AsynqError,
    TaskCanceledError,
    TaskDeadlineExceededError,
    ValidationError,
)


class TaskContext:
    """The life of one processing attempt: its deadline and why it ended (Go's task context).

    ``err`` is the error that cut the attempt short (deadline, cancellation, lost lease,
    shutdown), else ``None``; ``done`` turns true when the attempt is over for any reason,
    including a normal finish (Go cancels the context when the handler returns).
    """

    def __init__(self, deadline: float, clock: Clock) -> None:
        self.deadline = deadline
        self._clock = clock
        self._err: AsynqError | None = None
        self._finished = False

    def end(self, err: AsynqError | None = None) -> None:
        """Mark the attempt over; the first reason given sticks."""
        if self._err is None and err is not None and not self._finished:
            self._err = err
        self._finished = True

    @property
    def err(self) -> AsynqError | None:
        """Why the attempt was cut short, or ``None`` (also after a normal finish)."""
        if self._err is None and not self._finished and self._clock.now() >= self.deadline:
            return TaskDeadlineExceededError()
        return self._err

    @property
    def done(self) -> bool:
        """Whether the attempt is over: the handler should stop working."""
        return self._finished or self.err is not None


class ResultWriter:
    """Stores a handler's result in the task hash's ``result`` field (Go's ``ResultWriter``).

    The result survives the task only when the task has a ``retention``.
    """

    def __init__(
        self,
        task_id: str,
        context: TaskContext,
        write: Callable[[bytes], Coroutine[Any, Any, int]],
        loop: asyncio.AbstractEventLoop,
        publish: Callable[[bytes], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self._task_id = task_id
        self._context = context
        self._write = write
        self._publish = publish
        self._loop = loop
        # Made on the loop's thread; write() must not block that thread.
        self._loop_thread = threading.get_ident()

    @property
    def task_id(self) -> str:
        """The id of the task the result belongs to."""
        return self._task_id

    def _check(self, data: object) -> bytes:
        if isinstance(data, bytearray | memoryview):
            data = bytes(data)
        if not isinstance(data, bytes):
            raise ValidationError(f"task result must be bytes, not {type(data).__name__}")
        if self._context.done:
            # Go's context is cancelled once the handler returned: "context canceled".
            reason = self._context.err or TaskCanceledError()
            raise type(reason)(f"failed to write task result: {reason}")
        return data

    async def write_async(self, data: bytes) -> int:
        """Store ``data`` from an ``async def`` handler; return the number of bytes written.

        Raises:
            TaskDeadlineExceededError: the task's deadline has passed.
            TaskCanceledError: the task was cancelled or has finished.
            BrokerError: Redis failed.
        """
        return await self._write(self._check(data))

    def write(self, data: bytes) -> int:
        """Store ``data`` from a plain ``def`` handler (which runs in a worker thread).

        Blocks until Redis answered; returns the number of bytes written. ``async def``
        handlers use :meth:`write_async`.

        Raises:
            RuntimeError: called on the server's event loop thread.
            TaskDeadlineExceededError: the task's deadline has passed.
            TaskCanceledError: the task was cancelled or has finished.
            BrokerError: Redis failed.
        """
        checked = self._check(data)
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError(
                "ResultWriter.write() blocks; in an async handler use "
                "`await task.result_writer.write_async(data)`"
            )
        return asyncio.run_coroutine_threadsafe(self._write(checked), self._loop).result()

    async def _report_async(self, data: bytes) -> None:
        if self._publish is not None:
            await self._publish(self._check(data))

    def _report(self, data: bytes) -> None:
        checked = self._check(data)
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError(
                "report_progress() blocks; in an async handler use "
                "`await task.report_progress_async(...)`"
            )
        if self._publish is not None:
            asyncio.run_coroutine_threadsafe(self._publish(checked), self._loop).result()


def plain_task(msg: TaskMessage) -> Task:
    """A :class:`~asynq.Task` with the message's type, payload and headers (Go's
    ``NewTaskWithHeaders``), without re-validating what is already stored."""
    task = object.__new__(Task)
    _fill(task, msg)
    return task


def _fill(task: Task, msg: TaskMessage) -> None:
    task._type = msg.type
    task._payload = bytes(msg.payload)
    task._headers = MappingProxyType(dict(msg.headers))
    task._options = MappingProxyType({})


class ActiveTask(Task):
    """A task being processed: what every handler receives.

    Besides ``type``, ``payload``, ``headers`` and ``json()`` it carries the values Go
    handlers read from their context (``GetTaskID``, ``GetRetryCount``, ``GetMaxRetry``,
    ``GetQueueName``, ``ctx.Deadline()``, ``ctx.Done()``) and the task's result writer.
    """

    __slots__ = ("_context", "_msg", "_writer")

    _msg: TaskMessage
    _context: TaskContext
    _writer: ResultWriter

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("ActiveTask is created by the server; build a Task to enqueue")

    @classmethod
    def _create(cls, msg: TaskMessage, context: TaskContext, writer: ResultWriter) -> ActiveTask:
        # Skips Task.__init__: the message came from Redis and is what it is (Go does not
        # validate it either).
        self = object.__new__(cls)
        _fill(self, msg)
        self._msg = msg
        self._context = context
        self._writer = writer
        return self

    @property
    def id(self) -> str:
        """The task id (Go ``GetTaskID``)."""
        return self._msg.id

    @property
    def queue(self) -> str:
        """The queue the task came from (Go ``GetQueueName``)."""
        return self._msg.queue

    @property
    def retry_count(self) -> int:
        """How many times the task was retried before this attempt (Go ``GetRetryCount``)."""
        return self._msg.retried

    @property
    def max_retry(self) -> int:
        """Retries allowed before the task is archived (Go ``GetMaxRetry``)."""
        return self._msg.retry

    @property
    def deadline(self) -> datetime:
        """When this attempt times out (the handler context's deadline), aware UTC."""
        return datetime.fromtimestamp(self._context.deadline, UTC)

    @property
    def cancelled(self) -> bool:
        """Whether this attempt is over (deadline passed, cancelled, lease lost or shut down).

        A plain ``def`` handler cannot be interrupted; long-running ones should check this and
        return early. ``async def`` handlers are cancelled by the server.
        """
        return self._context.done

    def report_progress(
        self, done: float, total: float | None = None, *, message: str = ""
    ) -> None:
        """Tell whoever watches this task how far it got (a plain ``def`` handler; blocks
        until Redis answered). ``async def`` handlers use :meth:`report_progress_async`.

        Watchers (:func:`asynq.progress.watch_task`, the dashboard's task page, an SSE
        endpoint) receive each report as it is made; the last 100 are kept for a day.

        Args:
            done: Work done so far, in any unit (items, bytes, percent).
            total: The whole, in the same unit, when known.
            message: A short text for people ("resizing image 3 of 10").

        Raises:
            RuntimeError: called on the server's event loop thread.
            ValidationError: ``done`` or ``total`` is not a finite number.
            TaskCanceledError, TaskDeadlineExceededError: this attempt is over.
            BrokerError: Redis failed.
        """
        self._writer._report(progress_report(done, total, message))

    async def report_progress_async(
        self, done: float, total: float | None = None, *, message: str = ""
    ) -> None:
        """:meth:`report_progress` from an ``async def`` handler."""
        await self._writer._report_async(progress_report(done, total, message))

    @property
    def result_writer(self) -> ResultWriter:
        """Writes the task's result (Go's ``Task.ResultWriter()``)."""
        return self._writer

    def __repr__(self) -> str:
        return f"ActiveTask(id={self.id!r}, type={self._type!r}, queue={self.queue!r})"


def progress_report(done: float, total: float | None, message: str) -> bytes:
    """The stored form of one progress report: compact JSON ``{"done", "total", "message"}``.

    Raises:
        ValidationError: ``done``/``total`` is not a finite number or ``message`` not text.
    """
    for name, value in (("done", done), ("total", total)):
        if value is None and name == "total":
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValidationError(f"progress {name} must be a finite number, not {value!r}")
    if not isinstance(message, str):
        raise ValidationError(f"progress message must be text, not {type(message).__name__}")
    report = {"done": done, "total": total, "message": message}
    return json.dumps(report, separators=(",", ":"), ensure_ascii=False).encode()
