"""Enqueue when the database transaction commits: :func:`enqueue_on_commit`, :func:`on_commit`.

A task enqueued in the middle of a transaction may reach a worker before the transaction
commits (the worker then finds no row) or although it rolls back (the task acts on something
that never happened). These functions hold the enqueue until the SQLAlchemy session's
transaction commits, and drop it if it rolls back::

    from asynq.sqlalchemy import enqueue_on_commit

    with Session(engine) as session, session.begin():
        user = User(email=email)
        session.add(user)
        session.flush()
        enqueue_on_commit(session, send_welcome, user.id)   # a task function and its arguments
    # committed: the task is sent now

Savepoints (``session.begin_nested()``) behave as the data does: what was registered inside a
savepoint that rolls back is dropped; inside one that is released it waits for the enclosing
transaction, and goes (or is dropped) with it. Outside any transaction the enqueue happens at
once, since there is nothing to wait for.

Works with a ``Session``, a ``scoped_session`` (Flask-SQLAlchemy's ``db.session``) and an
``AsyncSession`` (its events run on its sync session; the enqueues are then blocking calls made
at commit). The enqueues run after the commit, in the order registered; if one fails the others
still run, each failure is logged on the ``asynq.sqlalchemy`` logger, and the first is raised
from the ``commit()`` call (the data is committed by then).

Needs the ``sqlalchemy`` extra: ``pip install 'asynq-python[sqlalchemy]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asynq._default_client import get_client
from asynq._functions import TaskFunction, use_commit_hook
from asynq._task import Task, TaskInfo
from asynq.errors import MissingDependencyError, ValidationError

try:
    from sqlalchemy import event
    from sqlalchemy.orm import Session, SessionTransaction
except ImportError as exc:
    raise MissingDependencyError(
        f"asynq.sqlalchemy needs the 'sqlalchemy' extra ({exc.name} is missing): "
        "pip install 'asynq-python[sqlalchemy]'"
    ) from exc

__all__ = ["enqueue_on_commit", "on_commit"]

_log = logging.getLogger("asynq.sqlalchemy")
#: ``session.info`` keys: the callbacks per open transaction, the last outcome, the listener.
_PENDING = "asynq.on_commit"
_OUTCOME = "asynq.outcome"
_LISTENING = "asynq.listening"


def on_commit(session: Any, callback: Callable[[], Any]) -> None:
    """Call ``callback()`` once the session's transaction commits; never if it rolls back.

    ``session`` is a ``Session``, a ``scoped_session`` or an ``AsyncSession``. Registered
    inside a savepoint, the callback is dropped if the savepoint rolls back and otherwise waits
    for the enclosing transaction. With no transaction in progress it is called at once.

    Raises:
        ValidationError: ``session`` is not a SQLAlchemy session.
    """
    real = _session(session)
    transaction = real.get_nested_transaction() or real.get_transaction()
    if transaction is None:
        callback()
        return
    if not real.info.get(_LISTENING):
        event.listen(real, "after_commit", _committed)
        event.listen(real, "after_rollback", _rolled_back)
        event.listen(real, "after_transaction_end", _ended)
        real.info[_LISTENING] = True
    real.info.setdefault(_PENDING, {}).setdefault(transaction, []).append(callback)


def enqueue_on_commit(
    session: Any, task: Task | TaskFunction[Any, Any], /, *args: Any, **kwargs: Any
) -> TaskInfo | None:
    """Enqueue once the session's transaction commits; drop it if it rolls back.

    Args:
        session: As for :func:`on_commit`.
        task: A task function (``@asynq.task``; per-call options through ``.using(...)``),
            then its arguments; or an :class:`~asynq.Task`, then the enqueue options of
            :meth:`Client.enqueue <asynq.Client.enqueue>` (sent through
            :func:`asynq.get_client`).

    The arguments are checked now, so a call that could never be sent fails here rather than
    after the commit. A task function's arguments are encoded now; a Task's options are
    applied at commit time. For a task function this is
    its :meth:`~asynq.TaskFunction.enqueue_on_commit` with the session as the commit hook, and
    returns the info the task will have (its id fixed now); for a Task, ``None``.

    Raises:
        ValidationError: the arguments or options are invalid, or ``session`` is not a session.
    """
    if isinstance(task, TaskFunction):
        # The task function's own deferral, with this session as the commit hook.
        with use_commit_hook(lambda callback: on_commit(session, callback)):
            return task.enqueue_on_commit(*args, **kwargs)
    if isinstance(task, Task):
        if args:
            raise ValidationError("enqueue_on_commit(session, Task, ...) takes options by keyword")
        on_commit(session, lambda: get_client().enqueue(task, **kwargs))
        return None
    raise ValidationError(f"expected a task function or an asynq.Task, not {task!r}")


def _session(session: Any) -> Session:
    """The ``Session`` behind a session, a ``scoped_session`` or an ``AsyncSession``."""
    real = getattr(session, "sync_session", session)  # AsyncSession
    if not isinstance(real, Session) and callable(getattr(real, "registry", None)):
        real = real()  # scoped_session: the session of the current scope
    if not isinstance(real, Session):
        raise ValidationError(f"expected a SQLAlchemy Session, not {session!r}")
    return real


# The outcome events come right before after_transaction_end of the same transaction (the root
# one or a savepoint); the end event then knows whether that transaction committed.


def _committed(session: Session) -> None:
    session.info[_OUTCOME] = "commit"


def _rolled_back(session: Session) -> None:
    session.info[_OUTCOME] = "rollback"


def _ended(session: Session, transaction: SessionTransaction) -> None:
    committed = session.info.pop(_OUTCOME, None) == "commit"
    callbacks = session.info.get(_PENDING, {}).pop(transaction, [])
    if not callbacks or not committed:
        return  # rolled back (or closed without commit): dropped
    parent = transaction.parent
    if transaction.nested and parent is not None:
        # A released savepoint: its tasks now belong to the enclosing transaction.
        session.info[_PENDING].setdefault(parent, []).extend(callbacks)
        return
    _run(callbacks)


def _run(callbacks: list[Callable[[], Any]]) -> None:
    first: BaseException | None = None
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:
            _log.error("enqueue after commit failed: %s", exc, exc_info=True)
            first = first or exc
    if first is not None:
        raise first
