"""Every exception asynq raises, under one root.

::

    AsynqError
    ├── ValidationError (also a ValueError)   bad input: blank type/queue/id, bad duration, ...
    ├── MissingDependencyError (also ImportError)  an optional extra is not installed
    ├── BrokerError                            Redis could not be reached or answered an error
    │   ├── BrokerConnectionError              ... could not be reached (refused, timeout, auth)
    │   │   └── BrokerUnreachableError         ... before anything was sent: nothing was written
    │   ├── BrokerReplyError                   ... answered an error reply (WRONGTYPE, ...)
    │   └── UnreadableDataError                ... holds a value asynq cannot decode
    ├── DuplicateTaskError                     the uniqueness lock is held by another task
    ├── EnqueueManyError                       enqueue_many: some tasks refused (asynq.client)
    ├── TaskIDConflictError                    a task with that id already exists in the queue
    ├── QueueNotFoundError                     the queue is not in ``asynq:queues``
    ├── QueueNotEmptyError                     delete_queue without force on a non-empty queue
    ├── TaskNotFoundError                      no such task in the queue
    ├── FailedPreconditionError                the task or queue is in the wrong state
    │   ├── TaskAlreadyArchivedError
    │   ├── TaskAlreadyRunningError / TaskAlreadyPendingError
    │   └── QueueAlreadyPausedError / QueueNotPausedError
    ├── HandlerNotFoundError                   no handler is registered for a task type
    ├── ServerCrashedError                     a worker server shut down: a vital part crashed
    ├── TaskWrapperError                       a server-wide task_wrapper / thread_wrapper raised
    ├── TaskCanceledError                      ``context canceled``: cancelled via ``asynq:cancel``
    ├── TaskDeadlineExceededError              ``context deadline exceeded``
    ├── LeaseExpiredError                      ``asynq: task lease expired``
    ├── SkipRetry                              control flow: archive the task now
    │   └── TaskArgumentsError                 a task function's payload does not fit its parameters
    └── RevokeTask                             control flow: drop the task, no retry, no archive

``SkipRetry`` and ``RevokeTask`` are signals, not failures: a handler raises them to choose the
outcome of its task. Their ``str()`` ends with Go's sentinel text ("skip retry for the task",
"revoke task") so the ``error_msg`` Go tools show matches a Go handler's wrapped error.

Redis client exceptions never leak: the broker drivers translate them into
``BrokerConnectionError`` or ``BrokerReplyError`` with the original chained as ``__cause__``
and any credentials masked. Only a ``BrokerConnectionError`` means Redis is out of reach; the
other two say that Redis works but some of its data is damaged, which the readers (CLI,
dashboard, metrics) report against the one queue or task concerned.
"""

from __future__ import annotations


class AsynqError(Exception):
    """Root of every exception raised by asynq."""


class ValidationError(AsynqError, ValueError):
    """An argument is invalid (blank name, bad duration, wrong payload type, ...)."""


class MissingDependencyError(AsynqError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class BrokerError(AsynqError):
    """Redis could not be reached, or answered with an unexpected error."""


class BrokerConnectionError(BrokerError):
    """Redis could not be reached: connection refused or lost, a timeout, failed authentication.

    For a write such as an enqueue, the outcome is **unknown**: the command may have reached
    Redis, and taken effect, before the connection failed. Retry it with the same ``task_id``;
    a :class:`TaskIDConflictError` on the retry means the first try was written. The subclass
    :class:`BrokerUnreachableError` says that nothing was sent.
    """

    #: Whether the failed call may have reached Redis (and a write in it taken effect).
    maybe_written: bool = True


class BrokerUnreachableError(BrokerConnectionError):
    """No connection to Redis could be opened, on any try: nothing was sent, nothing written.

    Raised only where asynq drives the connection itself: the producer's fast lane, taken by
    plain ``redis://`` and ``redis-socket://`` clients (the default). Over TLS, Sentinel or
    Cluster, or with ``fast_lane=False``, every connection failure is a plain
    :class:`BrokerConnectionError`, outcome unknown. Also raised by a worker server in burst
    mode that cannot reach Redis at start, over any connection: it started nothing.
    """

    maybe_written = False


class BrokerReplyError(BrokerError):
    """Redis answered with an error reply, e.g. ``WRONGTYPE`` for a key of another type."""


class UnreadableDataError(BrokerError):
    """A key holds a value asynq cannot decode (a corrupt task message, a non-UTF-8 name)."""


def is_damaged_data(exc: BaseException) -> bool:
    """Whether ``exc`` says that Redis works but some of its data is damaged.

    True for a :class:`BrokerReplyError` or :class:`UnreadableDataError`: readers report it
    against the one queue or task concerned. False for a :class:`BrokerConnectionError`.
    """
    return isinstance(exc, BrokerError) and not isinstance(exc, BrokerConnectionError)


class DuplicateTaskError(AsynqError):
    """The uniqueness lock of (queue, type, payload) is held: ``task already exists``."""

    def __init__(self, message: str = "task already exists") -> None:
        super().__init__(message)


class TaskIDConflictError(AsynqError):
    """A task with the same id already exists: ``task ID conflicts with another task``."""

    def __init__(self, message: str = "task ID conflicts with another task") -> None:
        super().__init__(message)


class QueueNotFoundError(AsynqError):
    """The queue is not registered in ``asynq:queues``."""

    def __init__(self, queue: str) -> None:
        super().__init__(f'queue "{queue}" does not exist')
        self.queue = queue


class QueueNotEmptyError(AsynqError):
    """The queue still holds tasks and ``force`` was not given."""

    def __init__(self, queue: str) -> None:
        super().__init__(f'queue "{queue}" is not empty')
        self.queue = queue


class TaskNotFoundError(AsynqError):
    """No task with that id exists in the queue."""

    def __init__(self, queue: str, task_id: str) -> None:
        super().__init__(f'cannot find task with id={task_id} in queue "{queue}"')
        self.queue = queue
        self.task_id = task_id


class FailedPreconditionError(AsynqError):
    """The task or queue is in a state that does not allow the operation."""


class TaskAlreadyArchivedError(FailedPreconditionError):
    """The task is archived already."""


class TaskAlreadyRunningError(FailedPreconditionError):
    """The task is active; use ``cancel_processing`` instead."""


class TaskAlreadyPendingError(FailedPreconditionError):
    """The task is pending already."""


class QueueAlreadyPausedError(FailedPreconditionError):
    """The queue is paused already."""


class QueueNotPausedError(FailedPreconditionError):
    """The queue is not paused."""


class HandlerNotFoundError(AsynqError):
    """No handler matches the task type: ``handler not found for task "<type>"``."""

    def __init__(self, task_type: str) -> None:
        super().__init__(f'handler not found for task "{task_type}"')
        self.task_type = task_type


class ServerCrashedError(AsynqError):
    """A worker server shut itself down because a component it cannot run without crashed.

    Raised by ``Server.serve()`` and ``Server.run()`` after the graceful shutdown (the
    running tasks were requeued). ``component`` names the part (``"processor"``,
    ``"heartbeat"``); the component's exception is the ``__cause__``.
    """

    def __init__(self, component: str, error: BaseException) -> None:
        super().__init__(
            f"asynq: the server shut down because its {component} crashed: "
            f"{str(error) or type(error).__name__}"
        )
        self.component = component


class TaskWrapperError(AsynqError):
    """A server-wide hook (``Config.task_wrapper`` or ``Config.thread_wrapper``) raised, so the
    task failed (and is retried like any failure) whatever its handler did.

    ``hook`` names the hook; the hook's exception is the ``__cause__``.
    """

    def __init__(self, hook: str, error: BaseException) -> None:
        super().__init__(f"asynq: {hook} failed: {type(error).__name__}: {error}")
        self.hook = hook


class TaskCanceledError(AsynqError):
    """The task was cancelled while running (Go's ``context canceled``)."""

    def __init__(self, message: str = "context canceled") -> None:
        super().__init__(message)


class TaskDeadlineExceededError(AsynqError):
    """The task ran past its timeout or deadline (Go's ``context deadline exceeded``)."""

    def __init__(self, message: str = "context deadline exceeded") -> None:
        super().__init__(message)


class LeaseExpiredError(AsynqError):
    """The worker's lease on the task ran out (``asynq: task lease expired``)."""

    def __init__(self, message: str = "asynq: task lease expired") -> None:
        super().__init__(message)


class _Signal(AsynqError):
    sentinel = ""

    def __init__(self, reason: str = "") -> None:
        text = f"{reason}: {self.sentinel}" if reason else self.sentinel
        super().__init__(text)
        self.reason = reason


class SkipRetry(_Signal):
    """Raise from a handler to archive the task at once instead of retrying it."""

    sentinel = "skip retry for the task"


class TaskArgumentsError(SkipRetry):
    """The payload of a task function's task does not fit the function's parameters.

    Raised on the worker before the function runs: the payload is not a JSON object, misses a
    required argument, names an unknown one, or holds a value of the wrong type. Retrying
    cannot help, so the task is archived at once with this message as its error.
    """

    def __init__(self, task_type: str, problem: str) -> None:
        super().__init__(f'task "{task_type}": {problem}')
        self.task_type = task_type
        self.problem = problem


class RevokeTask(_Signal):
    """Raise from a handler to drop the task: no retry, no archive (counted as processed)."""

    sentinel = "revoke task"


__all__ = [
    "AsynqError",
    "BrokerConnectionError",
    "BrokerError",
    "BrokerReplyError",
    "DuplicateTaskError",
    "FailedPreconditionError",
    "HandlerNotFoundError",
    "LeaseExpiredError",
    "MissingDependencyError",
    "QueueAlreadyPausedError",
    "QueueNotEmptyError",
    "QueueNotFoundError",
    "QueueNotPausedError",
    "RevokeTask",
    "SkipRetry",
    "TaskArgumentsError",
    "TaskAlreadyArchivedError",
    "TaskAlreadyPendingError",
    "TaskAlreadyRunningError",
    "TaskCanceledError",
    "TaskDeadlineExceededError",
    "TaskIDConflictError",
    "TaskNotFoundError",
    "UnreadableDataError",
    "ValidationError",
    "is_damaged_data",
]
