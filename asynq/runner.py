"""Run a worker server or a scheduler as a process's main job, without the command line.

What ``asynq worker`` and ``asynq scheduler`` do, as plain functions for framework adapters
(a Django management command, a Flask CLI command) and ``python -m`` entry points::

    import sys
    from asynq.runner import run_worker

    sys.exit(run_worker("myapp.tasks:mux", {"CONCURRENCY": 20}, imports=["myapp.jobs"]))

:func:`run_worker` and :func:`run_scheduler` import what they are told, set up logging when
asked, run until SIGTERM or SIGINT, or in burst mode until the queues are drained (graceful,
as :meth:`Server.run <asynq.server.Server.run>` and :meth:`Scheduler.run <asynq.Scheduler.run>`
do) and return the exit status: 0 after a clean stop, 1 after logging a one-line error when
the input is bad or the start fails.
:func:`load_worker`, :func:`load_handler` and :func:`load_scheduler` are the loading step
alone; they raise.

A worker's target may also be a framework app (a FastAPI or Flask app) that an adapter
recognises through the ``asynq.apps`` entry points (see :mod:`asynq.apps`): its tasks then run
inside what the app sets up, its lifespan or app context.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from asynq._default_client import configured_redis
from asynq._fleet import run_fleet
from asynq._imports import import_module, import_object
from asynq.apps import AppWorker, WorkerRun, find_app_worker
from asynq.connection import AsyncRedisLike
from asynq.errors import AsynqError, ValidationError
from asynq.periodic import PeriodicTaskConfigProvider, PeriodicTaskManager
from asynq.scheduler import Scheduler
from asynq.servemux import Handler
from asynq.server import Config, Server

__all__ = ["load_handler", "load_scheduler", "load_worker", "run_scheduler", "run_worker"]

_log = logging.getLogger("asynq.runner")


def _target(
    target: object, *, app_dir: str | os.PathLike[str] | None, imports: Iterable[str], factory: bool
) -> Any:
    """Import ``imports``, resolve ``target`` (with ``app_dir`` first on ``sys.path``) and call
    it when ``factory``."""
    if app_dir is not None:
        path = os.path.abspath(app_dir)
        if path not in sys.path:
            sys.path.insert(0, path)
    if isinstance(imports, str):
        raise ValidationError(f"imports must be a list of module names, not the string {imports!r}")
    for name in imports:
        import_module(name)
    obj: Any = target
    if isinstance(target, str):
        module, colon, attr = target.partition(":")
        if not colon or not module or not attr:
            raise ValidationError(f'invalid import string {target!r}: expected "module:object"')
        obj = import_object(target)
    if factory:
        if not callable(obj):
            raise ValidationError(f"{target!r} is not callable, so it cannot be a factory")
        obj = obj()
    return obj


def load_worker(
    target: Handler | AppWorker | object | str,
    *,
    app_dir: str | os.PathLike[str] | None = None,
    imports: Iterable[str] = (),
    factory: bool = False,
) -> Handler | AppWorker:
    """What a worker runs: a framework app's :class:`~asynq.apps.AppWorker` when an
    ``asynq.apps`` loader recognises the object, else the object as a handler.

    Arguments and errors as for :func:`load_handler`; a loader may also raise when it
    recognises the app but the app cannot run a worker (an adapter not set up on it).
    """
    obj = _target(target, app_dir=app_dir, imports=imports, factory=factory)
    app = find_app_worker(obj)
    return app if app is not None else _as_handler(obj, target)


def load_handler(
    target: Handler | str,
    *,
    app_dir: str | os.PathLike[str] | None = None,
    imports: Iterable[str] = (),
    factory: bool = False,
) -> Handler:
    """The worker's handler: ``target`` itself, or the object a ``"module:object"`` string names.

    Args:
        target: A handler (a :class:`~asynq.ServeMux`, an object with ``process_task``, or a
            sync or async callable taking the task) or its ``"module:object"`` import string.
        app_dir: A directory put first on ``sys.path`` before importing.
        imports: Modules imported first, in order (to register tasks defined there).
        factory: ``target`` is a callable returning the handler; call it.

    Raises:
        ValidationError: a module cannot be imported, the attribute is missing, or the object
            is not a handler.
    """
    return _as_handler(_target(target, app_dir=app_dir, imports=imports, factory=factory), target)


def _as_handler(obj: Any, target: object) -> Handler:
    """``obj``, checked to be a handler."""
    if hasattr(obj, "process_task"):
        return obj  # type: ignore[no-any-return]
    if not callable(obj):
        raise ValidationError(
            f"{target!r} is not a handler: expected a ServeMux, a TaskRegistry or a callable "
            "taking the task"
        )
    needed = _positional_arguments_needed(obj)
    if needed > 1:
        raise ValidationError(
            f"{target!r} is not a handler: it takes {needed} arguments, a handler the task "
            "alone (a FastAPI or Flask app runs through its adapter, installed with "
            "asynq-python[fastapi] or asynq-python[flask])"
        )
    return obj  # type: ignore[no-any-return]


def _positional_arguments_needed(fn: Any) -> int:
    """How many positional arguments ``fn`` requires; 1 when its signature is unknown.

    A handler is called with the task alone: an ASGI app (three arguments) or a WSGI app (two)
    is callable too, yet no handler.
    """
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in positional and p.default is p.empty)


def load_scheduler(
    target: Scheduler | PeriodicTaskManager | PeriodicTaskConfigProvider | str,
    *,
    redis: AsyncRedisLike | None = None,
    app_dir: str | os.PathLike[str] | None = None,
    imports: Iterable[str] = (),
    factory: bool = False,
) -> Scheduler | PeriodicTaskManager:
    """The scheduler to run: ``target`` itself, the object its import string names, or a
    :class:`~asynq.PeriodicTaskManager` reading the configs of a provider.

    Args:
        target: A :class:`~asynq.Scheduler` with its periodic tasks registered, a
            ``PeriodicTaskManager``, an object with ``get_configs()`` (see
            :class:`~asynq.PeriodicTaskConfigProvider`), or the ``"module:object"`` import
            string of one.
        redis: Where a manager built for a provider connects (default: as for
            :func:`run_worker`). A Scheduler or a manager keeps the connection it was built
            with.
        app_dir, imports, factory: As for :func:`load_handler`.

    Raises:
        ValidationError: an import fails, or the object is none of the above.
    """
    obj = _target(target, app_dir=app_dir, imports=imports, factory=factory)
    if isinstance(obj, Scheduler | PeriodicTaskManager):
        return obj
    if isinstance(obj, PeriodicTaskConfigProvider):
        return PeriodicTaskManager(obj, _redis(redis))
    raise ValidationError(
        f"{target!r} is not an asynq Scheduler, PeriodicTaskManager or periodic task config "
        f"provider (got {type(obj).__name__})"
    )


def run_worker(
    target: Handler | AppWorker | object | str,
    config: Config | Mapping[str, Any] | None = None,
    *,
    redis: AsyncRedisLike | None = None,
    imports: Iterable[str] = (),
    app_dir: str | os.PathLike[str] | None = None,
    factory: bool = False,
    log_level: str | int | None = None,
    processes: int = 1,
    burst: bool = False,
) -> int:
    """Run a worker server with ``target`` until SIGTERM or SIGINT; return the exit status.

    Args:
        target: The handler, a framework app an ``asynq.apps`` loader recognises (a FastAPI
            or Flask app, see :mod:`asynq.apps`) or its :class:`~asynq.apps.AppWorker`, or the
            ``"module:object"`` import string of one (see :func:`load_worker`).
        config: A :class:`~asynq.server.Config`, or a settings mapping for
            :meth:`Config.from_mapping <asynq.server.Config.from_mapping>`. For an app: a
            mapping of the settings to change over the app's own (a ``Config`` is refused).
        redis: Where to connect. Default: what :func:`asynq.configure` was given (a URL or a
            ``RedisConnection``), else ``$ASYNQ_REDIS_URL``, else ``redis://127.0.0.1:6379/0``;
            for an app, the app's own setting first.
        imports: Modules imported before the target, in order (task discovery).
        app_dir: A directory put first on ``sys.path`` before importing.
        factory: ``target`` is a callable returning the handler (or the app).
        log_level: When given (``"info"``, ``logging.DEBUG``, ...), set up logging to stderr
            at that level if the program has not, and set the ``asynq`` loggers to it.
        processes: Run this many worker servers, each in a forked process of its own, under
            a supervisor that replaces a crashed one and passes signals on (see
            ``docs/operations.md#several-worker-processes``). Each process has
            ``config.concurrency`` workers; an app's worker sets the app up in each process,
            after the fork. 1 (the default): one server in this process.
        burst: Also stop (with status 0) once the served queues are drained: no pending
            task left and none of this server's in flight. Scheduled tasks and retries not
            due yet are not waited for (see ``docs/operations.md#burst-mode``). Only with
            one process. Without Redis (at start, or for 30 s mid-run) the status is 1,
            never "drained".

    Returns:
        0 once the server (every server) stopped cleanly; 1 after logging a one-line error
        (on the ``asynq.runner`` logger) when the input is bad, the server could not start,
        or a burst run could not read its queues.
    """
    try:
        _setup_logging(log_level)
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
            raise ValidationError(f"processes must be a positive integer, got {processes!r}")
        if burst and processes > 1:
            raise ValidationError("burst mode runs one worker process: drop processes or burst")
        loaded = load_worker(target, app_dir=app_dir, imports=imports, factory=factory)
        if isinstance(loaded, AppWorker):
            work = partial(loaded.run, WorkerRun(_app_overrides(config), redis, burst))
        else:
            settings = config if isinstance(config, Config | None) else Config.from_mapping(config)
            work = partial(_run_server, loaded, settings, redis, burst)
    except ValidationError as exc:
        return _failed("worker", exc)
    if processes > 1:
        # Each forked child builds its own server (and an app's worker sets the app up in
        # the child): a server's identity is its process, and its connections and event
        # loop must not be shared across a fork.
        return run_fleet(partial(_worker_status, work), processes)
    return _worker_status(work)


def _app_overrides(config: Config | Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings changed over an app's own, by ``Config`` attribute name; checked here, in
    the process that forks, by building a ``Config`` from them."""
    if config is None:
        return {}
    if isinstance(config, Config):
        raise ValidationError(
            "an app's worker takes its Config from the app: pass the settings to change as a "
            "mapping"
        )
    checked = Config.from_mapping(config)
    return {str(key).lower(): getattr(checked, str(key).lower()) for key in config}


def _run_server(
    handler: Handler, config: Config | None, redis: AsyncRedisLike | None, burst: bool
) -> None:
    Server(_redis(redis), config).run(handler, burst=burst)


def _worker_status(work: Callable[[], None]) -> int:
    """Run one worker server in this process until it is stopped; the exit status."""
    try:
        work()
    except AsynqError as exc:
        return _failed("worker", exc)
    return 0


def run_scheduler(
    target: Scheduler | PeriodicTaskManager | PeriodicTaskConfigProvider | str,
    *,
    redis: AsyncRedisLike | None = None,
    imports: Iterable[str] = (),
    app_dir: str | os.PathLike[str] | None = None,
    factory: bool = False,
    log_level: str | int | None = None,
) -> int:
    """Run a scheduler until SIGTERM or SIGINT; return the exit status.

    ``target`` and ``redis`` are as for :func:`load_scheduler`; the other arguments and the
    exit status as for :func:`run_worker`.
    """
    try:
        _setup_logging(log_level)
        scheduler = load_scheduler(
            target, redis=redis, app_dir=app_dir, imports=imports, factory=factory
        )
    except ValidationError as exc:
        return _failed("scheduler", exc)
    try:
        scheduler.run()
    except AsynqError as exc:
        return _failed("scheduler", exc)
    return 0


def _redis(redis: AsyncRedisLike | None) -> AsyncRedisLike | None:
    return redis if redis is not None else configured_redis()


def _failed(what: str, exc: AsynqError) -> int:
    _log.error("asynq %s: %s", what, exc)
    return 1


def _setup_logging(level: str | int | None) -> None:
    if level is None:
        return
    if isinstance(level, str):
        name = level.upper()
        if not isinstance(logging.getLevelName(name), int):
            raise ValidationError(f"unknown log level {level!r}")
        level = logging.getLevelName(name)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("asynq").setLevel(level)
