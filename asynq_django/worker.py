"""What ``manage.py asynq_worker`` runs: an asynq handler for Django projects.

:class:`DjangoHandler` runs ``django.tasks`` tasks (found by their asynq type) and hands every
other type to the project's own handler (``ASYNQ["HANDLER"]``, e.g. a :class:`asynq.ServeMux`).
:func:`worker_config` has the server call Django's ``close_old_connections()`` before and
after every task, in the thread that runs it: Django's connections belong to a thread, and a
worker idles long enough for a database or load balancer to drop them.

For ``django.tasks`` tasks it also keeps Django's bookkeeping: ``task_started`` and
``task_finished`` signals, a ``TaskContext`` for ``takes_context`` tasks, the worker id of every
attempt, each error's class path and traceback, and the JSON-normalised return value.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections

import asynq
from asynq import (
    ActiveTask,
    Config,
    MissingDependencyError,
    QueueNotFoundError,
    SkipRetry,
    TaskNotFoundError,
    call_handler,
)
from asynq.servemux import Handler, is_async_handler
from asynq_django import clients
from asynq_django.conf import AsynqSettings

log = logging.getLogger("asynq_django")


@contextlib.contextmanager
def fresh_connections(task: ActiveTask) -> Iterator[None]:
    """``Config.thread_wrapper``: ``close_old_connections()`` before and after a plain ``def``
    handler, in the worker thread that runs it (Django's connections belong to a thread)."""
    close_old_connections()
    try:
        yield
    finally:
        close_old_connections()


@contextlib.asynccontextmanager
async def fresh_async_connections(task: ActiveTask) -> AsyncIterator[None]:
    """``Config.task_wrapper``: the same around every task for the async ORM, whose queries run
    in asgiref's thread-sensitive thread."""
    await sync_to_async(close_old_connections)()
    try:
        yield
    finally:
        await sync_to_async(close_old_connections)()


def worker_config(settings: AsynqSettings, **overrides: Any) -> Config:
    """The worker's :class:`asynq.Config`: ``settings`` with ``overrides``, and the database
    connection cleanup around every task."""
    return settings.server_config(
        thread_wrapper=fresh_connections, task_wrapper=fresh_async_connections, **overrides
    )


class DjangoHandler:
    """Runs ``django.tasks`` tasks; other task types go to ``fallback``.

    Args:
        settings: Where the task records are read from (the worker's Redis).
        fallback: The handler for types that are not Django tasks (default:
            :data:`asynq.default_registry`, where ``@asynq.task`` functions live). A type
            neither knows fails with :class:`asynq.HandlerNotFoundError` and is retried.
        worker_id: Recorded in each task's ``worker_ids``: the server id when known, else
            ``<host>:<pid>`` of the process that runs the task (a forked worker process).
    """

    def __init__(
        self, settings: AsynqSettings, fallback: Handler | None = None, worker_id: str = ""
    ) -> None:
        self.settings = settings
        self.fallback = asynq.default_registry if fallback is None else fallback
        self.worker_id = worker_id
        try:
            from asynq_django import records
        except MissingDependencyError:  # no task framework: only the fallback's types exist
            self._find_task: Callable[[str], Any] = lambda type_: None
        else:
            self._find_task = records.find_task

    async def process_task(self, task: ActiveTask) -> None:
        """Run ``task`` with its Django task, or with the fallback handler."""
        django_task = self._find_task(task.type)
        log.debug(
            "task %s of type %r from queue %r: %s",
            task.id,
            task.type,
            task.queue,
            "project handler" if django_task is None else "Django task",
        )
        if django_task is None:
            await call_handler(self.fallback, task)
            return
        if not self.worker_id:
            self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        attempt = _Attempt(self, django_task, task)
        await attempt.begin()
        if is_async_handler(django_task.func):
            await attempt.run_async(task)
        else:
            await call_handler(attempt.run_sync, task)  # in a worker thread


class _Attempt:
    """One attempt at a Django task: its record, its TaskResult and its signals."""

    def __init__(self, owner: DjangoHandler, django_task: Any, task: ActiveTask) -> None:
        from asynq_django import records
        from asynq_django import tasks_api as api

        self.records, self.api = records, api
        self.owner, self.django_task, self.task = owner, django_task, task
        self.sender = type(api.task_backends[django_task.backend])
        try:
            self.args, self.kwargs = records.call_of(task.payload)
        except ValueError as exc:  # no retry can mend the payload
            raise SkipRetry(f"{task.type}: {exc}") from exc

    async def begin(self) -> None:
        try:
            async with clients.async_inspector(self.owner.settings) as inspector:
                info = await inspector.get_task_info(self.task.queue, self.task.id)
            stored = info.result
        except (TaskNotFoundError, QueueNotFoundError):
            stored = None
        self.attempts = self.records.Attempts.load(stored)
        self.attempts.begin(self.owner.worker_id)
        await self.task.result_writer.write_async(self.attempts.dump())
        self.result = self._result(self.api.TaskResultStatus.RUNNING)

    def _result(self, status: Any) -> Any:
        enqueued = self.task.headers.get(self.records.ENQUEUED_AT_HEADER)
        result = self.api.TaskResult(
            task=self.django_task,
            id=self.task.id,
            status=status,
            enqueued_at=self.records.parse_time(enqueued),
            started_at=self.attempts.started_at,
            finished_at=self.attempts.finished_at,
            last_attempted_at=self.attempts.last_attempted_at,
            args=self.args,
            kwargs=self.kwargs,
            backend=self.django_task.backend,
            errors=[self.api.TaskError(**error) for error in self.attempts.errors],
            worker_ids=list(self.attempts.worker_ids),
        )
        if status == self.api.TaskResultStatus.SUCCESSFUL:
            object.__setattr__(result, "_return_value", self.attempts.return_value)
        return result

    def _call_args(self) -> list[Any]:
        if self.django_task.takes_context:
            return [self.api.TaskContext(task_result=self.result), *self.args]
        return list(self.args)

    def _final(self, exc: BaseException) -> bool:
        return isinstance(exc, SkipRetry) or self.task.retry_count >= self.task.max_retry

    def _failed(self, exc: BaseException) -> Any:
        self.attempts.fail(exc, "".join(traceback.format_exception(exc)))
        final = self._final(exc)
        status = self.api.TaskResultStatus.FAILED if final else self.api.TaskResultStatus.READY
        return self._result(status), final

    def run_sync(self, task: ActiveTask) -> None:
        """The attempt of a plain ``def`` task, in the worker thread."""
        self.api.task_started.send(self.sender, task_result=self.result)
        try:
            returned = self.django_task.func(*self._call_args(), **self.kwargs)
            value = self.api.normalize_json(returned)
        except (Exception, SystemExit) as exc:
            self.result, final = self._failed(exc)
            task.result_writer.write(self.attempts.dump())
            if final:
                self.api.task_finished.send(self.sender, task_result=self.result)
            _reraise(exc)
        self.attempts.succeed(value)
        task.result_writer.write(self.attempts.dump())
        self.result = self._result(self.api.TaskResultStatus.SUCCESSFUL)
        self.api.task_finished.send(self.sender, task_result=self.result)

    async def run_async(self, task: ActiveTask) -> None:
        """The attempt of an ``async def`` task, on the worker's event loop."""
        await self.api.task_started.asend(self.sender, task_result=self.result)
        try:
            returned = await self.django_task.func(*self._call_args(), **self.kwargs)
            value = self.api.normalize_json(returned)
        except (Exception, SystemExit) as exc:
            self.result, final = self._failed(exc)
            await task.result_writer.write_async(self.attempts.dump())
            if final:
                await self.api.task_finished.asend(self.sender, task_result=self.result)
            _reraise(exc)
        self.attempts.succeed(value)
        await task.result_writer.write_async(self.attempts.dump())
        self.result = self._result(self.api.TaskResultStatus.SUCCESSFUL)
        await self.api.task_finished.asend(self.sender, task_result=self.result)


def _reraise(exc: BaseException) -> None:
    # A task calling sys.exit() fails like any other (as Django's own backends have it); the
    # SystemExit itself must not reach the event loop, which would stop the whole worker.
    if isinstance(exc, SystemExit):
        raise RuntimeError(f"the task exited: SystemExit({exc.code!r})") from exc
    raise exc
