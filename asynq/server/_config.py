"""Server configuration: :class:`Config`, with Go v0.26.0's options and defaults."""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from asynq._base import keys
from asynq._base.wrapping import TaskWrapper as TaskWrapper  # re-exported
from asynq._base.wrapping import ThreadWrapper as ThreadWrapper
from asynq._imports import import_object
from asynq._options import go_duration
from asynq._options import to_seconds as to_seconds  # re-exported for the components
from asynq._task import Duration, Task
from asynq.errors import ValidationError

if TYPE_CHECKING:
    from asynq.server._active_task import ActiveTask


@runtime_checkable
class GroupAggregator(Protocol):
    """Combines the tasks of one group into one task (Go's ``GroupAggregator``).

    The returned task is enqueued in the group's queue whatever its own ``queue`` option says;
    its other options apply. A plain function ``(group, tasks) -> Task`` (or ``async def``)
    works too.
    """

    def aggregate(self, group: str, tasks: list[Task]) -> Task | Awaitable[Task]:
        """Return the aggregated task."""
        ...


#: ``(group, tasks) -> task``, plain or ``async``: a function standing for a
#: :class:`GroupAggregator` (Go's ``GroupAggregatorFunc``).
GroupAggregatorFunc: TypeAlias = Callable[[str, list[Task]], "Task | Awaitable[Task]"]
#: ``(retried, exc, task) -> delay``: seconds or a timedelta (Go's ``RetryDelayFunc``).
RetryDelayFunc: TypeAlias = Callable[[int, BaseException, Task], Duration]
#: ``(task, exc)`` called for every failed task, sync or async (Go's ``ErrorHandler``).
ErrorHandler: TypeAlias = Callable[["ActiveTask", BaseException], Any]
#: ``(exc) -> bool``: whether the error counts as a failure (Go's ``IsFailure``).
IsFailureFunc: TypeAlias = Callable[[BaseException], bool]
#: ``(error or None)``, called after each health check ping (Go's ``HealthCheckFunc``).
HealthCheckFunc: TypeAlias = Callable[[BaseException | None], Any]

_rng = random.SystemRandom()


def default_retry_delay(n: int, exc: BaseException, task: Task) -> float:
    """Go's ``DefaultRetryDelayFunc`` (from Sidekiq): ``n**4 + 15 + rand(0..29) * (n + 1)`` s.

    ``n`` is the number of retries done so far (0 on the first failure).
    """
    return float(int(math.pow(n, 4)) + 15 + _rng.randrange(30) * (n + 1))


def always_failure(exc: BaseException) -> bool:
    """The default ``is_failure``: every error is a failure."""
    return True


def retry_delay(
    func: RetryDelayFunc, n: int, exc: BaseException, task: Task, log: logging.Logger
) -> float:
    """``func(n, exc, task)`` in seconds; if it raises (or returns no duration), the error is
    logged and the default delay is used, so that a faulty ``retry_delay_func`` never leaves
    a task without an outcome."""
    try:
        return to_seconds("retry delay", func(n, exc, task))
    except Exception:
        log.exception("retry_delay_func failed; using the default delay")
        return default_retry_delay(n, exc, task)


def counts_as_failure(func: IsFailureFunc, exc: BaseException, log: logging.Logger) -> bool:
    """``is_failure(exc)``; if it raises, the error is logged and counted as a failure."""
    try:
        return bool(func(exc))
    except Exception:
        log.exception("is_failure failed; counting the error as a failure")
        return True


#: Priorities and the concurrency are int32 fields of the ServerInfo message every server
#: writes; a larger value could not be written, so the heartbeat would fail.
MAX_INT32 = 2**31 - 1


def _queues(value: Mapping[str, int] | None) -> dict[str, int]:
    # Go drops blank names and priorities <= 0, and falls back to {"default": 1}.
    result: dict[str, int] = {}
    for name, priority in (value or {}).items():
        if not isinstance(name, str) or not name.strip():
            continue
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise ValidationError(f"priority of queue {name!r} must be an int, not {priority!r}")
        if priority > MAX_INT32:
            raise ValidationError(
                f"queues: priority of queue {name!r} must be at most {MAX_INT32} (it is an int32 "
                f"in the server state Go reads), not {priority}"
            )
        if priority > 0:
            result[name] = priority
    return result or {keys.DEFAULT_QUEUE: 1}


def _is_negative(value: Any) -> bool:
    if isinstance(value, timedelta):
        return value < timedelta(0)
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


#: Defaults of the duration fields, in seconds (Go's ``default*`` constants in server.go).
_DURATION_DEFAULTS = {
    "task_check_interval": 1.0,
    "delayed_task_check_interval": 5.0,
    "shutdown_timeout": 8.0,
    "health_check_interval": 15.0,
    "group_grace_period": 60.0,
    "group_max_delay": 0.0,
    "janitor_interval": 8.0,
}


@dataclass(frozen=True, kw_only=True)
class Config:
    """How a :class:`~asynq.server.Server` processes tasks. Defaults are Go's.

    Durations accept seconds or a ``timedelta`` and read back as float seconds. A zero (or
    negative, for ``task_check_interval``) duration means the default, as in Go.

    Attributes:
        concurrency: Tasks processed at once, at most 2**31 - 1 (default: the number of CPUs).
        queues: Queue name to priority (at most 2**31 - 1). Blank names and priorities
            <= 0 are dropped; the default is ``{"default": 1}``.
        strict_priority: Drain higher priority queues first instead of weighted sampling.
        task_check_interval: Pause between polls when every queue is empty (1 s). New
            tasks wake idle workers at once (this library's enqueue publishes; Go's are seen
            by a blocking wait on each pending list); the poll is the fallback, and paces a
            paused queue's waiter.
        delayed_task_check_interval: Period of moving due scheduled and retry tasks (5 s).
        shutdown_timeout: How long shutdown waits for running tasks before requeueing
            them (8 s).
        health_check_func: Called with ``None`` or the error after each Redis ping.
        health_check_interval: Period of the health check (15 s).
        group_grace_period: Aggregate a group once no task joined it for this long (60 s,
            at least 1 s).
        group_max_delay: Aggregate a group once its oldest task waited this long (0: never).
        group_max_size: Aggregate a group once it holds this many tasks (0: no limit).
        group_aggregator: Enables group aggregation (a :class:`GroupAggregator` or function).
        janitor_interval: Period of deleting expired completed tasks (8 s).
        janitor_batch_size: Completed tasks deleted per script call (100).
        retry_delay_func: Delay before the next retry (Go's exponential default).
        is_failure: Whether an error counts as a failure; when it returns ``False`` the task
            is retried without using up a retry and without touching the failure counters.
        error_handler: Called with the task and the error of every failed task.
        logger: Where the server logs (default ``logging.getLogger("asynq.server")``).
        direct_handoff: Let this library's enqueue hand a task straight to this worker while
            it has a free slot, sparing the dequeue round trip (default ``True``; not on Redis
            Cluster). The worker registers in ``asynq:{<queue>}:handoff``, a key Go never
            reads; see :mod:`asynq.server._handoff`.
        task_wrapper: ``task_wrapper(task)`` returns a context manager, async or sync, that
            every task's handler runs inside, whatever the handler's kind (function,
            :class:`~asynq.ServeMux`, task registry, object). A sync one is entered on the event
            loop, so context variables it sets (Flask's ``app.app_context()``) reach the
            handler, plain ``def`` handlers included.
        thread_wrapper: ``thread_wrapper(task)`` returns a sync context manager entered *in the
            worker thread* around each plain ``def`` handler call (not around ``async def``
            ones), e.g. Django's ``close_old_connections()`` before and after.

    Hooks: an exception the handler raises passes through the wrappers' ``__exit__`` and
    decides the task's outcome as usual. An exception raised by a wrapper itself (its factory,
    ``__enter__`` or ``__exit__``) fails the task with :class:`~asynq.TaskWrapperError`
    naming the hook; the worker goes on with the next task. Order, for a plain ``def``
    handler: ``task_wrapper`` enter, middleware, ``thread_wrapper`` enter (in the thread), the
    handler, ``thread_wrapper`` exit, middleware, ``task_wrapper`` exit.
    """

    concurrency: int = 0
    queues: Mapping[str, int] = field(default_factory=lambda: {keys.DEFAULT_QUEUE: 1})
    strict_priority: bool = False
    task_check_interval: Duration = 1.0
    delayed_task_check_interval: Duration = 5.0
    shutdown_timeout: Duration = 8.0
    health_check_func: HealthCheckFunc | None = None
    health_check_interval: Duration = 15.0
    group_grace_period: Duration = 60.0
    group_max_delay: Duration = 0.0
    group_max_size: int = 0
    group_aggregator: GroupAggregator | GroupAggregatorFunc | None = None
    janitor_interval: Duration = 8.0
    janitor_batch_size: int = 100
    retry_delay_func: RetryDelayFunc = default_retry_delay
    is_failure: IsFailureFunc = always_failure
    error_handler: ErrorHandler | None = None
    logger: logging.Logger | None = None
    direct_handoff: bool = True
    task_wrapper: TaskWrapper | None = None
    thread_wrapper: ThreadWrapper | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.concurrency, int) or isinstance(self.concurrency, bool):
            raise ValidationError(f"concurrency must be an int, not {self.concurrency!r}")
        if self.concurrency > MAX_INT32:
            raise ValidationError(
                f"concurrency must be at most {MAX_INT32} (an int32 in the server state Go "
                f"reads), not {self.concurrency}"
            )
        if self.concurrency < 1:
            set_(self, "concurrency", os.cpu_count() or 1)
        set_(self, "queues", _queues(self.queues))
        for name, default in _DURATION_DEFAULTS.items():
            value = getattr(self, name)
            if name == "task_check_interval" and _is_negative(value):
                value = 0  # Go: "used when <= 0"
            # Go's time.Duration range: a longer interval overflows the millisecond arithmetic
            # of the scripts (a handoff registration's PEXPIRE) and Go readers.
            seconds = go_duration(name, value)
            set_(self, name, seconds or default)
        if to_seconds("group_grace_period", self.group_grace_period) < 1:
            raise ValidationError("group_grace_period cannot be less than a second")
        for name in ("group_max_size", "janitor_batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValidationError(f"{name} must be a non-negative int, not {value!r}")
        if self.janitor_batch_size > MAX_INT32:
            raise ValidationError(
                f"janitor_batch_size must be at most {MAX_INT32} (a LIMIT count in a script), "
                f"not {self.janitor_batch_size}"
            )
        if self.janitor_batch_size == 0:
            set_(self, "janitor_batch_size", 100)
        for name in ("task_wrapper", "thread_wrapper"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise ValidationError(
                    f"{name} must be a callable returning a context manager, not {value!r}"
                )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Config:
        """A Config from a settings mapping (a Django or Flask settings dict, parsed TOML, ...).

        Keys are the attribute names, in any case (``"CONCURRENCY"`` and ``"concurrency"`` are
        the same). Values are what the constructor takes, and also:

        - for callbacks and other objects (``error_handler``, ``retry_delay_func``,
          ``group_aggregator``, ``health_check_func``, ``is_failure``, ...): an import path,
          ``"package.module:attr"`` or ``"package.module.attr"``;
        - for ``logger``: a logger name.

        Raises:
            ValidationError: an unknown key (with the close matches), a key given twice in
                different cases, an import path that does not resolve (naming the key), or a
                value the constructor refuses.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            name = _field_name(key, fields)
            if name in values:
                raise ValidationError(f"Config setting {name!r} is given twice (as {key!r})")
            values[name] = _setting(name, value, fields[name])
        return cls(**values)

    @property
    def log(self) -> logging.Logger:
        """The logger in use."""
        return self.logger or logging.getLogger("asynq.server")


def _field_name(key: object, fields: Mapping[str, dataclasses.Field[Any]]) -> str:
    """The Config attribute a settings key names, whatever its case."""
    if not isinstance(key, str):
        raise ValidationError(f"Config setting names are strings, not {key!r}")
    name = key.lower()
    if name not in fields:
        close = difflib.get_close_matches(name, fields, n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValidationError(f"unknown Config setting {key!r}{hint}")
    return name


def _setting(name: str, value: Any, spec: dataclasses.Field[Any]) -> Any:
    """``value`` as the constructor takes it: a logger name made a logger, an import path
    imported for the object-valued settings."""
    if not isinstance(value, str):
        return value
    if name == "logger":
        return logging.getLogger(value)
    # Number, flag and mapping settings have plain defaults; the others (callbacks and objects)
    # default to None or to a function, and take an import path.
    takes_object = spec.default_factory is dataclasses.MISSING and (
        spec.default is None or callable(spec.default)
    )
    if not takes_object:
        return value  # the constructor rejects it with its own message
    try:
        return import_object(value)
    except ValidationError as exc:
        raise ValidationError(f"Config setting {name!r}: {exc}") from None
