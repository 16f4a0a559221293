"""The hook through which a framework holds task functions' enqueues until its database
transaction commits: :func:`set_commit_hook`, :func:`use_commit_hook`.

asynq knows no database. A framework that does (Django's ``transaction.on_commit``, a
SQLAlchemy session's events) installs a *commit hook*: a function that takes a callback and
calls it once the current transaction commits, never if it rolls back, or at once when no
transaction is in progress. Then:

- ``fn.enqueue_on_commit(...)`` on any ``@asynq.task`` function hands its enqueue to the hook;
- with ``defer_enqueue=True``, plain ``fn.enqueue(...)`` (and ``enqueue_in`` / ``enqueue_at``)
  does the same, so existing code waits for the commit without changes.

Either way the task is built and checked (arguments, options) at the call, and its id is
fixed then, so the caller gets the :class:`~asynq.TaskInfo` the task will have (state
``pending``, or ``scheduled``), and bad input fails where it was written. The asyncio
``aenqueue`` methods are never deferred: transaction callbacks are blocking calls.

A hook installed with :func:`set_commit_hook` applies to the whole process (a framework does
it once at start-up); :func:`use_commit_hook` applies inside a ``with`` block (a context
variable: this thread, and the asyncio tasks started inside it) and wins over the other.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from asynq.errors import ValidationError

__all__ = ["CommitHook", "OnCommit", "commit_hook", "set_commit_hook", "use_commit_hook"]

#: Calls its argument once the current transaction commits (at once without a transaction).
OnCommit = Callable[[Callable[[], object]], None]


@dataclass(frozen=True, slots=True)
class CommitHook:
    """An installed commit hook and whether plain ``enqueue`` calls go through it too."""

    on_commit: OnCommit
    defer_enqueue: bool = False


_installed: CommitHook | None = None
_scoped: contextvars.ContextVar[CommitHook | None] = contextvars.ContextVar(
    "asynq_commit_hook", default=None
)


def _hook(on_commit: OnCommit, defer_enqueue: bool) -> CommitHook:
    if not callable(on_commit):
        raise ValidationError(f"a commit hook must be callable, not {on_commit!r}")
    return CommitHook(on_commit, bool(defer_enqueue))


def set_commit_hook(on_commit: OnCommit | None, *, defer_enqueue: bool = False) -> None:
    """Install ``on_commit`` as the process's commit hook (``None`` removes it).

    Args:
        on_commit: Takes a callback; calls it once the current transaction commits, never if
            it rolls back, at once when there is no transaction.
        defer_enqueue: Task functions' plain ``enqueue`` calls wait for the commit too, not
            only ``enqueue_on_commit``.

    Raises:
        ValidationError: ``on_commit`` is not callable.
    """
    global _installed
    _installed = None if on_commit is None else _hook(on_commit, defer_enqueue)


@contextmanager
def use_commit_hook(on_commit: OnCommit, *, defer_enqueue: bool = False) -> Iterator[None]:
    """Make ``on_commit`` the commit hook inside the ``with`` block (arguments as for
    :func:`set_commit_hook`); the previous one comes back on exit.

    Raises:
        ValidationError: ``on_commit`` is not callable.
    """
    token = _scoped.set(_hook(on_commit, defer_enqueue))
    try:
        yield
    finally:
        _scoped.reset(token)


def commit_hook() -> CommitHook | None:
    """The commit hook in force here: the :func:`use_commit_hook` one, else the installed
    one, else ``None``."""
    return _scoped.get() or _installed
