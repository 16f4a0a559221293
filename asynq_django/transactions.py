"""Enqueue after the database transaction commits, so a worker never looks for a row that a
rolled-back (or not yet committed) transaction was writing.

:func:`enqueue_on_commit` takes any of the three kinds of task a Django project sends::

    enqueue_on_commit(send_welcome, user.id)                 # an @asynq.task function
    enqueue_on_commit(notify, user.id, using="replica")      # a django.tasks task
    enqueue_on_commit(asynq.Task("report:build", b"2026"), queue="low")   # a plain Task

Outside an atomic block it enqueues at once (``transaction.on_commit`` semantics); on
rollback nothing is sent.

:func:`install_commit_hook` makes Django's ``transaction.on_commit`` asynq's commit hook (see
:func:`asynq.set_commit_hook`), so ``fn.enqueue_on_commit(...)`` works on every ``@asynq.task``
function; with ``ASYNQ["ENQUEUE_ON_COMMIT"] = True`` plain ``fn.enqueue(...)`` inside an atomic
block waits for the commit too, as every ``django.tasks`` enqueue then does. The hook takes the
handle's database alias: ``fn.using(database="other").enqueue_on_commit(...)`` waits for the
transaction on ``"other"``.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from django.db import transaction

import asynq
from asynq import Task, TaskFunction, ValidationError
from asynq_django import clients
from asynq_django.conf import SettingsError, get_settings


def enqueue_on_commit(target: Any, *args: Any, using: str | None = None, **kwargs: Any) -> Any:
    """Enqueue ``target`` when the transaction on database ``using`` commits.

    Args:
        target: An ``@asynq.task`` function (``args``/``kwargs`` are its arguments), a
            ``django.tasks`` task (likewise), or an :class:`asynq.Task` (``kwargs`` are
            enqueue options).
        using: The database alias whose transaction to wait for (default ``"default"``).

    Returns:
        The id the task will have: a ``TaskResult`` for a ``django.tasks`` task, else the
        asynq task id (a given ``task_id`` option is kept).

    Raises:
        ValidationError: the arguments do not fit (checked now, not at commit).
    """
    if isinstance(target, TaskFunction):
        handle = target if using is None else target.using(database=using)
        with asynq.use_commit_hook(_on_commit):  # Django's, whatever hook is in force here
            return handle.enqueue_on_commit(*args, **kwargs).id
    if isinstance(target, Task):
        if args:
            raise ValidationError("enqueue_on_commit(Task, ...) takes enqueue options only")
        options = {"task_id": str(uuid4()), **kwargs}
        transaction.on_commit(lambda: clients.get_client().enqueue(target, **options), using=using)
        return options["task_id"]
    backend = getattr(target, "get_backend", lambda: None)()
    if hasattr(backend, "enqueue_on_commit"):
        return backend.enqueue_on_commit(target, args, kwargs, using=using)
    if backend is not None:  # a django.tasks task on another backend
        transaction.on_commit(lambda: target.enqueue(*args, **kwargs), using=using)
        return None
    raise ValidationError(
        f"enqueue_on_commit() takes an @asynq.task function, a django.tasks task or an "
        f"asynq.Task, not {target!r}"
    )


def _on_commit(callback: Any, database: str | None = None) -> None:
    transaction.on_commit(callback, using=database)


def install_commit_hook() -> None:
    """Make ``transaction.on_commit`` asynq's commit hook (on the default database, or the one
    a handle names with ``using(database=...)``), deferring plain task function enqueues when
    ``ASYNQ["ENQUEUE_ON_COMMIT"]`` is on (read again after every settings change)."""
    try:
        defer = get_settings().enqueue_on_commit
    except SettingsError:  # the system checks report it
        defer = False
    asynq.set_commit_hook(_on_commit, defer_enqueue=defer)
