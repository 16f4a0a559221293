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

A hook may also take a ``database`` keyword: ``on_commit(callback, database="other")`` waits
for the transaction of that database (the framework's name for it, such as a Django alias).
It is called so for a handle given one with ``fn.using(database="other")``; without one, it
is called with the callback alone, as every hook is. A handle with a database refuses a hook
that takes none (``ValidationError`` at the call), rather than wait for the wrong transaction.

A hook installed with :func:`set_commit_hook` applies to the whole process (a framework does
it once at start-up); :func:`use_commit_hook` applies inside a ``with`` block (a context
variable: this thread, and the asyncio tasks started inside it) and wins over the other.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from asynq.errors import ValidationError

__all__ = ["CommitHook", "OnCommit", "commit_hook", "set_commit_hook", "use_commit_hook"]

#: Calls its argument once the current transaction commits (at once without a transaction);
#: it may take a ``database`` keyword too (see the module's docstring).
OnCommit = Callable[[Callable[[], object]], None]


@dataclass(frozen=True, slots=True)
class CommitHook:
    """An installed commit hook, whether plain ``enqueue`` calls go through it too, and
    whether it takes a ``database`` keyword (read from its signature once, when installed)."""

    on_commit: OnCommit
    defer_enqueue: bool = False
    takes_database: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "takes_database", _takes_database(self.on_commit))

    def defer(self, callback: Callable[[], object], database: str | None = None) -> None:
        """Hand ``callback`` to the hook, for the transaction of ``database`` if given.

        Raises:
            ValidationError: a database is given and the hook takes none.
        """
        if database is None:
            self.on_commit(callback)  # as hooks were always called: any hook works
        elif self.takes_database:
            cast(Callable[..., object], self.on_commit)(callback, database=database)
        else:
            raise ValidationError(
                f"the installed commit hook takes no database; using(database={database!r}) "
                "needs one that accepts a database keyword, as asynq_django's does "
                "(on_commit(callback, database=...)), or leave the database out"
            )


def _takes_database(on_commit: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(on_commit).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins): assume the old form
        return False
    return any(
        p.kind is p.VAR_KEYWORD
        or (p.name == "database" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        for p in parameters
    )


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
            it rolls back, at once when there is no transaction. With a ``database`` keyword
            it also serves handles with ``using(database=...)``: the transaction is then
            that database's.
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
