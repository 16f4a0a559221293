"""How a ``django.tasks`` task lives in asynq's Redis model, shared by the backend (which
enqueues and reads results) and the worker (which runs tasks and records their attempts).

- **Type**: the task's ``type`` option when given (``@task(type="email:send")``), else its
  ``module_path``; a Go service enqueues or consumes that type.
- **Payload**: JSON ``{"args": [...], "kwargs": {...}}``, Django's JSON-only arguments.
- **Header** ``django-enqueued-at``: ISO time of the enqueue (asynq keeps no such time).
- **Result field**: a JSON record of the attempts, written by the worker through the task's
  result writer: ``worker_ids``, ``errors``, ``started_at``, ``last_attempted_at``,
  ``finished_at`` and ``return_value``.
- **Status** from asynq's state: pending, scheduled, retry and aggregating are ``READY``;
  active is ``RUNNING``; completed is ``SUCCESSFUL``; archived is ``FAILED``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.module_loading import import_string

from asynq import TaskInfo, TaskState
from asynq_django import tasks_api as api

ENQUEUED_AT_HEADER = "django-enqueued-at"

STATUS_OF_STATE = {
    TaskState.PENDING: api.TaskResultStatus.READY,
    TaskState.SCHEDULED: api.TaskResultStatus.READY,
    TaskState.RETRY: api.TaskResultStatus.READY,
    TaskState.AGGREGATING: api.TaskResultStatus.READY,
    TaskState.ACTIVE: api.TaskResultStatus.RUNNING,
    TaskState.COMPLETED: api.TaskResultStatus.SUCCESSFUL,
    TaskState.ARCHIVED: api.TaskResultStatus.FAILED,
}

#: Tasks whose asynq type is not their module path, by type (filled as they are declared).
_by_type: dict[str, Any] = {}


def task_type(task: Any) -> str:
    """The asynq type ``task`` is enqueued as."""
    return getattr(task, "type", None) or str(task.module_path)


def register(task: Any) -> None:
    """Make ``task`` findable by its asynq type (needed when that is not its module path)."""
    _by_type[task_type(task)] = task


def find_task(type_: str) -> Any | None:
    """The Django task that handles asynq type ``type_``, or ``None``.

    A type that is a module path resolves to the Task object at that path; anything else must
    have been declared (its module imported, as the worker's autodiscovery does).
    """
    found = _by_type.get(type_)
    if found is not None:
        return found
    if "." not in type_:
        return None
    try:
        candidate = import_string(type_)
    except ImportError:
        return None
    return candidate if isinstance(candidate, api.Task) else None


def payload(args: Any, kwargs: Any) -> bytes:
    """The JSON payload of a call (arguments already JSON-normalised by Django)."""
    return json.dumps({"args": list(args), "kwargs": dict(kwargs)}).encode()


def call_of(data: bytes) -> tuple[list[Any], dict[str, Any]]:
    """``(args, kwargs)`` from a payload; a Go producer sends the same JSON object.

    Raises:
        ValueError: the payload is not a JSON object with list ``args`` / object ``kwargs``.
    """
    decoded = json.loads(data or b"{}")
    if not isinstance(decoded, dict):
        raise ValueError('the payload must be a JSON object {"args": [...], "kwargs": {...}}')
    args, kwargs = decoded.get("args", []), decoded.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError('payload "args" must be a list and "kwargs" an object')
    return args, kwargs


def now() -> datetime:
    """Aware UTC now (what every recorded time is)."""
    return datetime.now(UTC)


def parse_time(text: Any) -> datetime | None:
    """The datetime of an ISO string, or ``None``."""
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class Attempts:
    """The record kept in the task's ``result`` field across attempts."""

    worker_ids: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    started_at: datetime | None = None
    last_attempted_at: datetime | None = None
    finished_at: datetime | None = None
    return_value: Any = None

    @classmethod
    def load(cls, data: bytes | None) -> Attempts:
        """The record in ``data`` (an empty one for no data or a foreign result)."""
        try:
            raw = json.loads(data) if data else {}
        except ValueError:
            raw = {}
        if not isinstance(raw, dict) or not isinstance(raw.get("worker_ids"), list):
            return cls()  # no attempt yet, or a result some other handler wrote
        return cls(
            worker_ids=[str(w) for w in raw["worker_ids"]],
            errors=[e for e in raw.get("errors", []) if isinstance(e, dict)],
            started_at=parse_time(raw.get("started_at")),
            last_attempted_at=parse_time(raw.get("last_attempted_at")),
            finished_at=parse_time(raw.get("finished_at")),
            return_value=raw.get("return_value"),
        )

    def dump(self) -> bytes:
        """The JSON bytes stored in the ``result`` field."""
        return json.dumps(
            {
                "worker_ids": self.worker_ids,
                "errors": self.errors,
                "started_at": _iso(self.started_at),
                "last_attempted_at": _iso(self.last_attempted_at),
                "finished_at": _iso(self.finished_at),
                "return_value": self.return_value,
            }
        ).encode()

    def begin(self, worker_id: str) -> None:
        """Record the start of an attempt by ``worker_id``."""
        started = now()
        self.worker_ids.append(worker_id)
        self.started_at = self.started_at or started
        self.last_attempted_at = started

    def fail(self, exc: BaseException, traceback: str) -> None:
        """Record an attempt that raised ``exc``."""
        kind = type(exc)
        self.errors.append(
            {
                "exception_class_path": f"{kind.__module__}.{kind.__qualname__}",
                "traceback": traceback,
            }
        )
        self.finished_at = now()

    def succeed(self, value: Any) -> None:
        """Record an attempt that returned ``value`` (JSON-normalised)."""
        self.return_value = value
        self.finished_at = now()


def build_result(
    task: Any, info_or_id: TaskInfo | str, backend: str, *, status: Any = None, **times: Any
) -> Any:
    """A Django ``TaskResult`` for ``task``: from a :class:`TaskInfo`, or a fresh one for an id."""
    if isinstance(info_or_id, str):
        return api.TaskResult(
            task=task,
            id=info_or_id,
            status=status or api.TaskResultStatus.READY,
            enqueued_at=times.get("enqueued_at"),
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=times.get("args", []),
            kwargs=times.get("kwargs", {}),
            backend=backend,
            errors=[],
            worker_ids=[],
        )
    info = info_or_id
    attempts = Attempts.load(info.result)
    args, kwargs = call_of(info.payload)
    result_status = STATUS_OF_STATE[info.state]
    finished_at = attempts.finished_at if result_status in _FINISHED else None
    if result_status == api.TaskResultStatus.SUCCESSFUL and info.completed_at is not None:
        finished_at = finished_at or info.completed_at
    result = api.TaskResult(
        task=task,
        id=info.id,
        status=result_status,
        enqueued_at=parse_time(info.headers.get(ENQUEUED_AT_HEADER)),
        started_at=attempts.started_at,
        finished_at=finished_at,
        last_attempted_at=attempts.last_attempted_at,
        args=args,
        kwargs=kwargs,
        backend=backend,
        errors=[api.TaskError(**error) for error in attempts.errors],
        worker_ids=attempts.worker_ids,
    )
    if result_status == api.TaskResultStatus.SUCCESSFUL:
        object.__setattr__(result, "_return_value", attempts.return_value)
    return result


_FINISHED = (api.TaskResultStatus.SUCCESSFUL, api.TaskResultStatus.FAILED)
