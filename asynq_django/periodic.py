"""Periodic tasks for ``manage.py asynq_scheduler``, from the settings and from code.

In the settings::

    ASYNQ = {
        "PERIODIC_TASKS": [
            {"cron": "*/5 * * * *", "task": "shop.tasks.sweep_carts"},
            {"cron": "@daily", "task": "shop.tasks.report", "args": ["daily"],
             "options": {"queue": "low"}},
        ]
    }

In code (an app's ``tasks.py``, which the scheduler imports like the worker does)::

    from asynq_django import periodic
    periodic("0 3 * * *", send_digest, kwargs={"kind": "nightly"}, queue="low")

``task`` / ``target`` is an ``@asynq.task`` function, a ``django.tasks`` task on an
:class:`~asynq_django.backend.AsynqBackend`, or a dotted path to one; ``options`` are asynq
enqueue options. A ``django.tasks`` task enqueued by the scheduler has no ``enqueued_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.module_loading import import_string

from asynq import Scheduler, Task, TaskFunction, ValidationError
from asynq_django.conf import AsynqSettings

#: Entries added by :func:`periodic`: (spec, target, args, kwargs, options).
_registered: list[tuple[str, Any, tuple[Any, ...], dict[str, Any], dict[str, Any]]] = []


def periodic(
    spec: str,
    target: Any,
    args: Iterable[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> None:
    """Have ``manage.py asynq_scheduler`` enqueue ``target(*args, **kwargs)`` on ``spec``.

    ``spec`` is a cron expression, ``@every 30s``, ``@daily``... as asynq's scheduler takes;
    ``options`` are enqueue options (``queue``, ``max_retry``, ``timeout``, ``unique``...).
    """
    _registered.append((spec, target, tuple(args), dict(kwargs or {}), options))


def asynq_task(target: Any, args: Any, kwargs: Any, options: Mapping[str, Any]) -> Task:
    """The asynq task (with its options) that a call of ``target`` enqueues.

    Raises:
        ValidationError: ``target`` is not importable, or not a task this can schedule.
    """
    if isinstance(target, str):
        try:
            target = import_string(target)
        except ImportError as exc:
            raise ValidationError(f"cannot import periodic task {target!r}: {exc}") from None
    if isinstance(target, TaskFunction):
        return target.using(**options).task(*args, **kwargs)
    backend = getattr(target, "get_backend", lambda: None)()
    if backend is not None and hasattr(backend, "asynq_task"):
        message, own = backend.asynq_task(target, list(args), dict(kwargs))
        return Task(message.type, message.payload, **{**own, **options})
    raise ValidationError(
        f"periodic task {target!r} is neither an @asynq.task function nor a django.tasks "
        "task on an AsynqBackend"
    )


def build_scheduler(settings: AsynqSettings) -> Scheduler:
    """A scheduler with the ``PERIODIC_TASKS`` of ``settings`` and the :func:`periodic`
    entries registered so far.

    Raises:
        ValidationError: an entry's task, arguments, options or spec is invalid.
    """
    scheduler = Scheduler(settings.connection())
    entries = [
        (
            entry["cron"],
            entry["task"],
            entry.get("args", ()),
            entry.get("kwargs", {}),
            entry.get("options", {}),
        )
        for entry in settings.periodic_tasks
    ]
    for spec, target, args, kwargs, options in [*entries, *_registered]:
        scheduler.register(spec, asynq_task(target, args, kwargs, options))
    return scheduler
