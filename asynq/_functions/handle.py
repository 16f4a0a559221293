"""The handle a ``@task`` decorator returns: :class:`TaskFunction`.

Calling the handle runs the function, as if it were not decorated. Its methods turn a call
into a task instead: ``enqueue`` (and ``aenqueue``, ``enqueue_in``, ``enqueue_at``...) send it,
``task`` builds it without sending, ``result`` reads back what the worker stored. The handle is
also a handler (``process_task``): it decodes the payload and calls the function.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypedDict, TypeVar, cast, overload

from asynq._base.clock import SYSTEM_CLOCK
from asynq._default_client import get_async_client, get_client
from asynq._fastcompose import fresh_info
from asynq._functions.arguments import Arguments
from asynq._functions.context import current_task, running
from asynq._functions.eager import is_eager, run_eagerly, run_eagerly_sync
from asynq._functions.on_commit import CommitHook, commit_hook
from asynq._functions.results import read_result, read_result_async
from asynq._functions.supplied import supplying
from asynq._options import compose
from asynq._task import (
    TASK_OPTION_NAMES,
    Duration,
    EnqueueOptions,
    Instant,
    Task,
    TaskInfo,
    validate_headers,
)
from asynq.client import AsyncClient, Client
from asynq.errors import AsynqError, ValidationError
from asynq.servemux import run_in_handler_thread
from asynq.server._active_task import ActiveTask

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["TaskFunction", "TaskFunctionOptions", "UsingOptions"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class TaskFunctionOptions(TypedDict, total=False):
    """Options a ``@task`` decorator attaches to every task of the function (Go's names)."""

    #: Queue name (default ``"default"``).
    queue: str
    #: Retries before the task is archived (default 25).
    max_retry: int
    #: Longest a single run may take (default 30 min when no deadline is set).
    timeout: Duration | None
    #: Time by which the task must finish.
    deadline: Instant | None
    #: Refuse duplicates (same queue, type and arguments) for this long.
    unique: Duration | None
    #: Keep the completed task (and its result) this long.
    retention: Duration | None
    #: Aggregate with other tasks of this group.
    group: str
    #: String metadata carried with every task.
    headers: Mapping[str, str]


class UsingOptions(EnqueueOptions, total=False):
    """Per-call options of :meth:`TaskFunction.using`: the enqueue options plus a client and
    a database."""

    #: The client to send with: a ``Client`` for ``enqueue*``/``result``, an ``AsyncClient``
    #: for ``aenqueue*``/``aresult`` (each kind replaces the default client of its kind).
    client: Client | AsyncClient
    #: The database whose transaction ``enqueue_on_commit`` (and a deferred ``enqueue``)
    #: waits for, by the framework's name for it (a Django alias). Never sent to Redis.
    database: str


#: Options of a handle that are not the tasks': they say how and when to send.
_SENDING_OPTIONS = frozenset({"client", "database"})


def check_options(type_name: str, options: Mapping[str, Any]) -> None:
    """Refuse what an enqueue would refuse, now: unknown names, bad values.

    Raises:
        ValidationError: an option is unknown or invalid.
    """
    unknown = set(options) - TASK_OPTION_NAMES - {"headers"} - _SENDING_OPTIONS
    if unknown:
        raise ValidationError(f'task "{type_name}": unknown option(s) {", ".join(sorted(unknown))}')
    task_options = {
        k: v for k, v in options.items() if k != "headers" and k not in _SENDING_OPTIONS
    }
    compose(Task(type_name), task_options, 0.0, 0.0)
    validate_headers(options.get("headers"))
    client = options.get("client")
    if client is not None and not isinstance(client, Client | AsyncClient):
        raise ValidationError(f"client must be an asynq.Client or AsyncClient, not {client!r}")
    database = options.get("database")
    if "database" in options and not (isinstance(database, str) and database):
        raise ValidationError(f"database must be a non-empty name (str), not {database!r}")


class TaskFunction(Generic[P, R]):
    """A function that can also run as a task: what ``@asynq.task`` returns.

    ``P`` and ``R`` are the function's parameters and return type, so type checkers check the
    arguments of :meth:`enqueue` like those of a call. The arguments travel as one JSON object
    keyed by parameter name (see ``docs/quickstart.md``); a first parameter annotated
    :class:`~asynq.ActiveTask` receives the running task instead.

    ::

        @asynq.task("email:welcome", queue="critical")
        async def send_welcome(user_id: int, *, template: str = "default") -> str:
            ...

        send_welcome.enqueue(42, template="short")            # a task for a worker
        send_welcome.using(process_in=60).enqueue(42)         # with per-call options
        await send_welcome(42)                                # a plain call, here and now

    Attributes:
        type_name: The task type the function's tasks carry.
    """

    #: The decorated function (set by ``functools.update_wrapper``).
    __wrapped__: Callable[P, R]

    def __init__(
        self,
        fn: Callable[P, R],
        type_name: str,
        options: Mapping[str, Any] | None = None,
        *,
        _arguments: Arguments | None = None,
    ) -> None:
        self._fn = fn
        self.type_name = type_name
        self._arguments = _arguments or Arguments(fn, type_name)
        opts = dict(options or {})
        check_options(type_name, opts)
        self._headers = dict(validate_headers(opts.pop("headers", None)))
        self._sync_client: Client | None = None
        self._async_client: AsyncClient | None = None
        self._take_client(opts.pop("client", None))
        self._database: str | None = opts.pop("database", None)
        self._options = opts
        self._is_async = inspect.iscoroutinefunction(fn)
        functools.update_wrapper(self, fn)

    @property
    def process_task(self) -> Callable[[ActiveTask], Awaitable[None] | None]:
        """The handler entry point: decodes the payload and calls the function.

        An ``async def`` function runs on the server's event loop, a plain one in its handler
        thread pool (like any ServeMux handler). A function with parameters a framework
        supplies (:mod:`asynq._functions.supplied`) gets their values on the event loop
        first, whatever its kind.
        """
        try:
            supplied = bool(self._arguments.suppliers)
        except ValidationError:
            supplied = True  # refused since the decoration: its decode archives the task
        if supplied:
            return self._process_supplied
        return self._process_async if self._is_async else self._process_sync

    def _take_client(self, client: Client | AsyncClient | None) -> None:
        if isinstance(client, Client):
            self._sync_client = client
        elif isinstance(client, AsyncClient):
            self._async_client = client

    @property
    def options(self) -> Mapping[str, Any]:
        """The options every task of this handle carries (decorator's, then ``using``'s)."""
        return (
            {**self._options, "headers": dict(self._headers)}
            if self._headers
            else dict(self._options)
        )

    def __repr__(self) -> str:
        return f"<TaskFunction {self.type_name!r} of {self._fn.__module__}.{self._fn.__qualname__}>"

    # -- plain call ---------------------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the function here and now, as if it were not decorated.

        A function taking the :class:`~asynq.ActiveTask` first gets :func:`current_task`.
        """
        if self._arguments.takes_task:
            return cast(Callable[..., R], self._fn)(current_task(), *args, **kwargs)
        return self._fn(*args, **kwargs)

    # -- building and sending tasks -----------------------------------------------------------

    def using(self, **options: Unpack[UsingOptions]) -> TaskFunction[P, R]:
        """A copy of the handle with per-call options, merged over the decorator's.

        Takes every enqueue option (``queue``, ``unique``, ``process_in``, ``process_at``,
        ``task_id``, ``max_retry``, ``timeout``, ``deadline``, ``retention``, ``group``,
        ``headers``), ``client``, and ``database`` (the transaction :meth:`enqueue_on_commit`
        waits for); keeping them apart from the arguments means they never collide with the
        function's own parameter names::

            send_welcome.using(queue="low", task_id=f"welcome-{user.id}").enqueue(user.id)
            send_welcome.using(database="users").enqueue_on_commit(user.id)

        Raises:
            ValidationError: an option is unknown or invalid.
        """
        merged: dict[str, Any] = {**self._options, **options}
        headers = {**self._headers, **validate_headers(options.get("headers"))}
        if headers:
            merged["headers"] = headers
        copy = TaskFunction(self._fn, self.type_name, merged, _arguments=self._arguments)
        copy._sync_client = copy._sync_client or self._sync_client
        copy._async_client = copy._async_client or self._async_client
        copy._database = copy._database or self._database
        return copy

    def task(self, *args: P.args, **kwargs: P.kwargs) -> Task:
        """The :class:`~asynq.Task` for a call, with this handle's options, unsent.

        For ``Client.enqueue_many``, a ``Scheduler`` entry, or anything else taking a Task.

        Raises:
            ValidationError: the arguments do not bind to the signature or have no JSON form.
        """
        payload = self._arguments.encode(args, kwargs)
        return Task(self.type_name, payload, headers=self._headers, **self._options)

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """Send a task that calls the function with these arguments on a worker.

        Uses the ``using(client=...)`` client, else the default one. Under eager mode
        (:func:`asynq.eager`) runs the function now instead and returns the completed info.
        When a framework installed a commit hook with ``defer_enqueue`` (Django's
        ``ASYNQ["ENQUEUE_ON_COMMIT"]``), this is :meth:`enqueue_on_commit`.

        Raises:
            ValidationError: the arguments do not bind or do not encode, or an option is
                invalid (nothing is written to Redis then).
            DuplicateTaskError, TaskIDConflictError, BrokerError: as ``Client.enqueue``.
        """
        return self._send(self.task(*args, **kwargs), {})

    def enqueue_in(self, delay: Duration, /, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """:meth:`enqueue`, to be processed after ``delay`` (seconds or ``timedelta``)."""
        return self._send(self.task(*args, **kwargs), {"process_in": delay})

    def enqueue_at(self, when: Instant, /, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """:meth:`enqueue`, to be processed at ``when`` (aware ``datetime`` or Unix seconds)."""
        return self._send(self.task(*args, **kwargs), {"process_at": when})

    def enqueue_on_commit(self, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """:meth:`enqueue` once the current database transaction commits; never if it rolls
        back; at once when no transaction is in progress.

        The transaction is the framework's: its commit hook (installed by ``asynq_django``,
        or with :func:`asynq.set_commit_hook` / :func:`asynq.use_commit_hook`, see
        :mod:`asynq._functions.on_commit`) decides when; ``using(database=...)`` names the
        database whose transaction it is (else the hook's default one). The task is built and
        checked now and its id fixed, so the returned info is the task as it will be sent
        (``pending``).

        Raises:
            AsynqError: no commit hook is installed.
            ValidationError: as :meth:`enqueue`, now rather than at the commit; or the handle
                names a database and the hook takes none.
        """
        hook = commit_hook()
        if hook is None:
            raise AsynqError(
                f"{self.type_name}.enqueue_on_commit() needs a commit hook, and none is "
                "installed: add asynq_django to INSTALLED_APPS, or wrap the call in "
                "asynq.use_commit_hook(...) (e.g. with asynq.sqlalchemy.on_commit)"
            )
        return self._defer(hook, self.task(*args, **kwargs), {})

    async def aenqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """:meth:`enqueue` for asyncio code, through an ``AsyncClient``."""
        return await self._asend(self.task(*args, **kwargs), {})

    async def aenqueue_in(self, delay: Duration, /, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """:meth:`enqueue_in` for asyncio code."""
        return await self._asend(self.task(*args, **kwargs), {"process_in": delay})

    async def aenqueue_at(self, when: Instant, /, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """:meth:`enqueue_at` for asyncio code."""
        return await self._asend(self.task(*args, **kwargs), {"process_at": when})

    def _client(self) -> Client:
        return self._sync_client or get_client()

    def _aclient(self) -> AsyncClient:
        return self._async_client or get_async_client()

    def _send(self, task: Task, opts: dict[str, Any]) -> TaskInfo:
        hook = commit_hook()
        if hook is not None and hook.defer_enqueue:
            return self._defer(hook, task, opts)
        return self._send_now(task, opts)

    def _defer(self, hook: CommitHook, task: Task, opts: dict[str, Any]) -> TaskInfo:
        """Hand the enqueue of ``task`` to the commit hook (for the handle's database);
        the info it will have."""
        now = SYSTEM_CLOCK.now()
        composed = compose(task, opts, now, now)  # every option checked now, the id fixed
        fixed = {**opts, "task_id": composed.msg.id}
        hook.defer(lambda: self._send_now(task, fixed), self._database)
        return fresh_info(composed)

    def _send_now(self, task: Task, opts: dict[str, Any]) -> TaskInfo:
        if is_eager():
            return run_eagerly_sync(self, task, opts)
        return self._client().enqueue(task, **opts)

    async def _asend(self, task: Task, opts: dict[str, Any]) -> TaskInfo:
        if is_eager():
            return await run_eagerly(self, task, opts)
        return await self._aclient().enqueue(task, **opts)

    # -- results ------------------------------------------------------------------------------

    @overload
    def result(self: TaskFunction[P, Coroutine[Any, Any, T]], task: str | TaskInfo, /) -> T: ...
    @overload
    def result(self: TaskFunction[P, T], task: str | TaskInfo, /) -> T: ...
    def result(self, task: str | TaskInfo, /) -> Any:
        """The value the function returned for ``task`` (an id or the enqueue's ``TaskInfo``),
        decoded to its return annotation; ``None`` if it returned ``None``.

        An id is looked up in the handle's queue (``using(queue=...)`` / the decorator's);
        a ``TaskInfo`` carries its own. The result is there only while the task is kept as
        completed, which needs a ``retention``.

        Raises:
            TaskNotFoundError: no such task (finished without retention, or deleted).
            FailedPreconditionError: the task has not completed (yet): pending, scheduled,
                active, retrying or archived.
            ValidationError: the task is of another type, or its result does not decode.
        """
        task_id, queue = self._locate(task)
        return read_result(self._client, queue, task_id, self._arguments)

    @overload
    async def aresult(
        self: TaskFunction[P, Coroutine[Any, Any, T]], task: str | TaskInfo, /
    ) -> T: ...
    @overload
    async def aresult(self: TaskFunction[P, T], task: str | TaskInfo, /) -> T: ...
    async def aresult(self, task: str | TaskInfo, /) -> Any:
        """:meth:`result` for asyncio code, through an ``AsyncClient``."""
        task_id, queue = self._locate(task)
        return await read_result_async(self._aclient, queue, task_id, self._arguments)

    def _locate(self, task: str | TaskInfo) -> tuple[str, str]:
        if isinstance(task, TaskInfo):
            return task.id, task.queue
        if not isinstance(task, str) or not task:
            raise ValidationError(f"expected a task id or a TaskInfo, not {task!r}")
        return task, str(self._options.get("queue") or "default")

    # -- running on a worker ------------------------------------------------------------------

    def _call_args(self, task: ActiveTask) -> tuple[tuple[Any, ...], dict[str, Any]]:
        values = self._arguments.decode(task.type, task.payload)
        return self._arguments.call_arguments(values, task=task)

    def _process_sync(self, task: ActiveTask) -> None:
        args, kwargs = self._call_args(task)
        with running(task):
            value = self._fn(*args, **kwargs)
        data = self._arguments.encode_result(task.type, value)
        if data is not None:
            task.result_writer.write(data)

    async def _process_async(self, task: ActiveTask) -> None:
        args, kwargs = self._call_args(task)
        with running(task):
            value = await cast(Callable[..., Awaitable[Any]], self._fn)(*args, **kwargs)
        data = self._arguments.encode_result(task.type, value)
        if data is not None:
            await task.result_writer.write_async(data)

    async def _process_supplied(self, task: ActiveTask) -> None:
        """Decode (a bad payload opens nothing), get the supplied values, call the function
        (a plain one in a handler thread), encode the result, let the suppliers tear down,
        then store the result: a failed teardown fails the task, with no result kept."""
        values = self._arguments.decode(task.type, task.payload)
        outcome: BaseException | None = None
        with running(task):
            async with supplying(self._arguments.suppliers, task) as supplied:
                args, kwargs = self._arguments.call_arguments(values, task=task, supplied=supplied)
                try:
                    if self._is_async:
                        value = await cast(Callable[..., Awaitable[Any]], self._fn)(*args, **kwargs)
                    else:
                        call = functools.partial(self._fn, *args, **kwargs)
                        value = await run_in_handler_thread(lambda _: call(), task)
                    data = self._arguments.encode_result(task.type, value)
                except BaseException as exc:
                    outcome = exc
                    raise
        if outcome is not None:  # a supplier's teardown swallowed it: the task still fails
            raise outcome
        if data is not None:
            await task.result_writer.write_async(data)
