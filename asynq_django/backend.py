"""A ``django.tasks`` backend that stores tasks in asynq's Redis model.

::

    TASKS = {
        "default": {
            "BACKEND": "asynq_django.backend.AsynqBackend",
            "QUEUES": ["default", "emails"],     # [] allows any queue
            "OPTIONS": {"RETENTION": 3600},      # any ASYNQ key; OPTIONS wins over ASYNQ
        }
    }

    @task(queue_name="emails")                   # django.tasks.task (or django_tasks.task)
    def send_welcome(user_id): ...

    result = send_welcome.enqueue(42)            # from a view; run by `manage.py asynq_worker`
    result = send_welcome.get_result(result.id)  # live status from any process

On Django 6.1 (and the ``django-tasks`` backport) extra decorator arguments reach
:class:`AsynqTask`: ``@task(type="email:send", max_retry=3, timeout=60, unique=300)``. A
``type`` makes the task speak a Go service's task type: Go producers enqueue it with the
payload ``{"args": [...], "kwargs": {...}}``, and Go workers consume it.

Capabilities: ``run_after`` (``supports_defer``), ``async def`` tasks, and results from any
process (``supports_get_result``, while ``RETENTION`` > 0 keeps finished tasks). Priorities
are not supported: asynq orders work by weighted queues, so use ``queue_name``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import uuid4

from django.core import checks
from django.db import transaction

from asynq import QueueNotFoundError, Task, TaskInfo, TaskNotFoundError
from asynq_django import clients, conf, records
from asynq_django import tasks_api as api
from asynq_django.conf import AsynqSettings, SettingsError, merged


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AsynqTask(api.Task):  # type: ignore[misc,valid-type]
    """A Django task with asynq options, and :meth:`enqueue_on_commit`.

    Attributes:
        type: The asynq task type (default: the function's module path).
        max_retry: Retries before the task is archived as FAILED (default: ``MAX_RETRY``).
        timeout: Seconds one attempt may take (default: ``TIMEOUT``, else asynq's 30 min).
        unique: Refuse an equal (queue, type, arguments) task for this many seconds.
        retention: Keep the finished task this many seconds (default: ``RETENTION``).
    """

    type: str | None = None
    max_retry: int | None = None
    timeout: float | timedelta | None = None
    unique: float | timedelta | None = None
    retention: float | timedelta | None = None

    def __post_init__(self) -> None:
        api.Task.__post_init__(self)  # no zero-argument super() in a slots dataclass
        if self.type is not None:
            records.register(self)

    def enqueue_on_commit(self, *args: Any, using: str | None = None, **kwargs: Any) -> Any:
        """Enqueue once the transaction on database ``using`` commits; nothing on rollback.

        Outside an atomic block the task is enqueued at once. Returns the ``TaskResult``,
        whose id is fixed now and valid once the transaction committed (``None`` on a
        backend that makes its results at enqueue, such as the test backends below).
        """
        from asynq_django.transactions import enqueue_on_commit

        return enqueue_on_commit(self, *args, using=using, **kwargs)


class AsynqBackend(api.BaseTaskBackend):  # type: ignore[misc,valid-type]
    """Runs ``django.tasks`` tasks on asynq workers (``manage.py asynq_worker``)."""

    task_class = AsynqTask
    supports_defer = True
    supports_async_task = True
    supports_priority = False

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self._read: tuple[int, AsynqSettings, SettingsError | None] | None = None

    def _current(self) -> tuple[AsynqSettings, SettingsError | None]:
        # Read again after asynq_django.conf.reload() (a changed $ASYNQ_REDIS_URL, say).
        if self._read is None or self._read[0] != conf.generation():
            try:
                self._read = (conf.generation(), merged(self.options), None)
            except SettingsError as exc:
                self._read = (conf.generation(), AsynqSettings(), exc)
        return self._read[1], self._read[2]

    @property
    def settings(self) -> AsynqSettings:
        """``ASYNQ`` with this alias's ``OPTIONS`` over it (defaults when invalid)."""
        return self._current()[0]

    @property
    def _problem(self) -> SettingsError | None:
        return self._current()[1]

    @property  # type: ignore[override]
    def supports_get_result(self) -> bool:  # type: ignore[override]
        """Without retention Redis forgets a task the moment it succeeds: no result to get."""
        return self.settings.retention > 0

    # -- enqueue ---------------------------------------------------------------------------

    def asynq_task(self, task: Any, args: Any, kwargs: Any) -> tuple[Task, dict[str, Any]]:
        """The asynq task and enqueue options of a call of ``task`` (what a periodic entry
        registers; an enqueue adds the id and the enqueue time).

        Raises:
            InvalidTask: the task does not fit this backend.
            SettingsError: this alias's settings are invalid.
        """
        if self._problem is not None:
            raise self._problem
        self.validate_task(task)
        options: dict[str, Any] = {
            "queue": task.queue_name,
            "max_retry": _pick(task, "max_retry", self.settings.max_retry),
            "retention": _pick(task, "retention", self.settings.retention) or None,
            "timeout": _pick(task, "timeout", self.settings.timeout) or None,
            "unique": getattr(task, "unique", None),
            "process_at": task.run_after,
        }
        message = Task(records.task_type(task), records.payload(args, kwargs))
        return message, {k: v for k, v in options.items() if v is not None}

    def _message(
        self, task: Any, args: Any, kwargs: Any, task_id: str
    ) -> tuple[Task, dict[str, Any], Any]:
        args, kwargs = api.normalize_json(list(args)), api.normalize_json(dict(kwargs))
        message, options = self.asynq_task(task, args, kwargs)
        enqueued_at = records.now()
        options["task_id"] = task_id
        options["headers"] = {records.ENQUEUED_AT_HEADER: enqueued_at.isoformat()}
        result = records.build_result(
            task, task_id, self.alias, enqueued_at=enqueued_at, args=args, kwargs=kwargs
        )
        return message, options, result

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        """Enqueue ``task``; inside an atomic block at commit when ``ENQUEUE_ON_COMMIT``."""
        if self.settings.enqueue_on_commit:
            return self.enqueue_on_commit(task, args, kwargs)
        message, options, result = self._message(task, args, kwargs, _new_id())
        clients.get_client(self.settings).enqueue(message, **options)
        api.task_enqueued.send(type(self), task_result=result)
        return result

    async def aenqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        """:meth:`enqueue` on the running loop's asyncio client (no thread hop).

        ``ENQUEUE_ON_COMMIT`` does not apply: async code holds no atomic block open.
        """
        message, options, result = self._message(task, args, kwargs, _new_id())
        async with clients.async_client(self.settings) as client:
            await client.enqueue(message, **options)
        await api.task_enqueued.asend(type(self), task_result=result)
        return result

    def enqueue_on_commit(
        self, task: Any, args: Any, kwargs: Any, *, using: str | None = None
    ) -> Any:
        """Enqueue when the transaction on ``using`` commits (at once outside a transaction).

        The task is validated now; the returned result's id is the id it will have.
        """
        message, options, result = self._message(task, args, kwargs, _new_id())

        def send() -> None:
            clients.get_client(self.settings).enqueue(message, **options)
            api.task_enqueued.send(type(self), task_result=result)

        transaction.on_commit(send, using=using)
        return result

    # -- results ---------------------------------------------------------------------------

    def _queues_to_search(self, known: Iterable[str]) -> list[str]:
        preferred = [q for q in sorted(self.queues) if q in known]
        return preferred + sorted(q for q in known if q not in self.queues)

    def _result_of(self, info: TaskInfo) -> Any:
        task = records.find_task(info.type)
        if task is None:
            raise api.TaskResultDoesNotExist(
                f"task {info.id} has type {info.type!r}, which is no known Django task"
            )
        if task.backend != self.alias:
            task = task.using(backend=self.alias)
        return records.build_result(task, info, self.alias)

    def get_result(self, result_id: str) -> Any:
        """The current state of task ``result_id``, read from Redis.

        Raises:
            TaskResultDoesNotExist: no queue holds the task (never enqueued, deleted, or
                its retention ran out).
        """
        inspector = clients.get_inspector(self.settings)
        for queue in self._queues_to_search(inspector.queues()):
            try:
                return self._result_of(inspector.get_task_info(queue, result_id))
            except (TaskNotFoundError, QueueNotFoundError):
                continue
        raise api.TaskResultDoesNotExist(result_id)

    async def aget_result(self, result_id: str) -> Any:
        """:meth:`get_result` on the running loop's asyncio inspector."""
        async with clients.async_inspector(self.settings) as inspector:
            for queue in self._queues_to_search(await inspector.queues()):
                try:
                    return self._result_of(await inspector.get_task_info(queue, result_id))
                except (TaskNotFoundError, QueueNotFoundError):
                    continue
        raise api.TaskResultDoesNotExist(result_id)

    # -- checks ----------------------------------------------------------------------------

    def check(self, **kwargs: Any) -> Iterable[checks.CheckMessage]:
        """Configuration problems of this alias (no Redis I/O)."""
        yield from super().check(**kwargs)
        if self._problem is not None:
            yield checks.Error(f"TASKS[{self.alias!r}]: {self._problem}", id=self._problem.check_id)


def _pick(task: Any, name: str, default: Any) -> Any:
    value = getattr(task, name, None)
    return default if value is None else value


def _new_id() -> str:
    return str(uuid4())


class ImmediateAsynqBackend(api.ImmediateBackend):  # type: ignore[misc,valid-type]
    """Django's ``ImmediateBackend`` (runs each task at enqueue, in the caller) taking the
    :class:`AsynqTask` options, so tests can swap it in for :class:`AsynqBackend`."""

    task_class = AsynqTask


class DummyAsynqBackend(api.DummyBackend):  # type: ignore[misc,valid-type]
    """Django's ``DummyBackend`` (records enqueued tasks in ``.results``, runs nothing) taking
    the :class:`AsynqTask` options."""

    task_class = AsynqTask
