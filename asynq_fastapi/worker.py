"""Workers for a FastAPI app: inside the app's lifespan, in a process of their own
(``python -m asynq_fastapi worker myapp.main:app``) or embedded beside the web server
(``asynq_lifespan(worker=True)``).

Either way the worker server starts after the app's lifespan has opened its resources and
stops before the lifespan closes them, so task functions reuse them: :func:`lifespan_state`
is what the lifespan yielded (what routes see as ``request.state``) and :func:`current_app`
the app, whose ``app.state`` the lifespan may also have filled. No ``Request`` is faked: a task
is not a request.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import asynq
from asynq.servemux import Handler
from asynq.server import Config, Server

__all__ = [
    "Handler",
    "WorkerRequest",
    "app_running",
    "current_app",
    "lifespan_state",
    "run_app_worker",
    "running_apps",
    "running_worker",
    "worker_request",
]


@dataclass
class WorkerRequest:
    """What ``python -m asynq_fastapi worker`` asks of the app's lifespan: start no worker of
    your own, tell me where you connect and what a worker of yours would run."""

    redis: str | asynq.RedisConnection | None = None
    tasks: Handler | None = None
    config: Config | None = None

    def found(
        self, redis: str | asynq.RedisConnection, tasks: Handler | None, config: Config | None
    ) -> None:
        """Called by ``asynq_lifespan`` with its settings."""
        self.redis = redis
        self.tasks = tasks
        self.config = config


#: Set by :func:`run_app_worker` while it enters the app's lifespan.
worker_request: contextvars.ContextVar[WorkerRequest | None] = contextvars.ContextVar(
    "asynq_fastapi_worker_request", default=None
)
_app: contextvars.ContextVar[Any] = contextvars.ContextVar("asynq_fastapi_app", default=None)
_state: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "asynq_fastapi_state", default=None
)


#: The apps whose ``asynq_lifespan`` is running in this process, oldest first.
_running: list[Any] = []


def running_apps() -> tuple[Any, ...]:
    """The apps whose ``asynq_lifespan`` is running in this process."""
    return tuple(_running)


@contextmanager
def app_running(app: Any) -> Iterator[None]:
    """Inside the block, ``app`` counts among :func:`running_apps` (its ``asynq_lifespan``)."""
    _running.append(app)
    try:
        yield
    finally:
        _running.remove(app)


def current_app() -> Any:
    """The FastAPI app the running code belongs to, for dependencies shared by routes and tasks.

    Inside a task run by an ``asynq_fastapi`` worker (``asynq worker myapp.main:app``, or
    embedded with ``asynq_lifespan(worker=True)``): the app of that worker. Anywhere else (a
    route, its dependencies, an eager task run): the app whose ``asynq_lifespan`` is running
    in this process, when there is exactly one. So a dependency reading
    ``current_app().state`` serves the app's routes and its task functions alike.

    Raises:
        LookupError: no such app (a plain ``asynq worker``, which runs no app lifespan; or no
            app, or several, running an ``asynq_lifespan`` in this process).
    """
    app = _app.get()
    if app is not None:
        return app
    apps = running_apps()
    if len(apps) == 1:
        return apps[0]
    raise LookupError(
        "current_app(): not inside a task run by an asynq_fastapi worker, and "
        f"{len(apps) or 'no'} apps run an asynq_lifespan in this process; run the task with "
        "asynq worker myapp.main:app (or asynq_lifespan(worker=True))"
    )


def lifespan_state() -> Mapping[str, Any]:
    """What the app's lifespan yielded (read-only), as routes see it in ``request.state``.

    In a ``python -m asynq_fastapi worker`` process: the whole state of the app's lifespan.
    In a worker embedded with ``asynq_lifespan(worker=True)``: only what ``asynq_lifespan``
    yields (``{"asynq": client}``), since an outer lifespan yields after the worker started;
    reach its resources through ``current_app().state`` instead.

    Raises:
        LookupError: not inside a task run by an ``asynq_fastapi`` worker.
    """
    state = _state.get()
    if state is None:
        raise LookupError(
            "lifespan_state() is only set inside tasks run by an asynq_fastapi worker"
        )
    return state


@asynccontextmanager
async def running_worker(
    redis: str | asynq.RedisConnection | None,
    tasks: Handler | None,
    config: Config | None,
    *,
    app: Any,
    state: Mapping[str, Any] | None = None,
) -> AsyncIterator[Server]:
    """A started worker server on the running loop, shut down gracefully on exit.

    Its tasks see ``app`` through :func:`current_app` and ``state`` through
    :func:`lifespan_state` (the context variables are set before the server starts its
    tasks, which copy the context).
    """
    server = Server(redis, config)
    with _tasks_see(app, state):
        await server.start(tasks if tasks is not None else asynq.default_registry)
    try:
        yield server
    finally:
        await server.shutdown()


async def run_app_worker(
    app: Any,
    tasks: Handler | None = None,
    config: Config | Mapping[str, Any] | None = None,
    *,
    redis: asynq.AsyncRedisLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    stop: asyncio.Event | None = None,
    burst: bool = False,
) -> None:
    """Run a worker server inside ``app``'s lifespan until SIGTERM/SIGINT (or ``stop``).

    Enters the app's lifespan (its whole lifespan, as a web server would), starts the worker
    server once it has started, and on the signal stops the server gracefully before the
    lifespan closes what it opened (the signals are handled as ``Server.run`` does: a
    second one requeues the running tasks at once, SIGTSTP stops taking tasks). An
    ``asynq_lifespan`` in the app starts no worker of its own here; its settings (Redis
    address, ``tasks``, ``worker_config``) are the worker's unless given here.

    Args:
        app: The FastAPI (or any Starlette) app.
        tasks: What the worker runs; default: the ``asynq_lifespan``'s ``tasks``, else
            :data:`asynq.default_registry`.
        config: A :class:`asynq.server.Config` or a settings mapping; default: the
            ``asynq_lifespan``'s ``worker_config``.
        redis: Where the worker connects; default: the app's ``asynq_lifespan``, else
            ``$ASYNQ_REDIS_URL``.
        overrides: Config settings applied over ``config`` (command-line flags).
        stop: Stop when this event is set (for running it from code rather than a process).
        burst: Also stop once the served queues are drained (see ``Server.serve``).

    Raises:
        ValidationError: ``config`` is invalid.
    """
    if config is not None and not isinstance(config, Config):
        config = Config.from_mapping(config)
    request = WorkerRequest()
    token = worker_request.set(request)
    try:
        async with app.router.lifespan_context(app) as state:
            worker_request.reset(token)
            config = config if config is not None else request.config
            if overrides:
                config = dataclasses.replace(config or Config(), **overrides)
            server = Server(redis if redis is not None else request.redis, config)
            tasks = tasks if tasks is not None else request.tasks
            with _tasks_see(app, state), _shutdown_when_set(stop, server):
                await server.serve(
                    tasks if tasks is not None else asynq.default_registry,
                    burst=burst,
                    handle_signals=True,
                )
    finally:
        if worker_request.get() is request:
            worker_request.reset(token)


@contextmanager
def _tasks_see(app: Any, state: Mapping[str, Any] | None) -> Iterator[None]:
    """:func:`current_app` and :func:`lifespan_state` set for the tasks a server started
    inside the block (its tasks copy the context they are started in)."""
    app_token = _app.set(app)
    state_token = _state.set(MappingProxyType(dict(state or {})))
    try:
        yield
    finally:
        _state.reset(state_token)
        _app.reset(app_token)


@contextmanager
def _shutdown_when_set(stop: asyncio.Event | None, server: Server) -> Iterator[None]:
    """Inside the block, ``server`` shuts down once ``stop`` is set."""
    if stop is None:
        yield
        return

    async def watch() -> None:
        await stop.wait()
        await server.shutdown()

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()
