"""Framework apps as worker targets: ``asynq worker myapp.main:app``.

A FastAPI or Flask app is no task handler, but its tasks need what the app sets up (a
lifespan's resources, an app context). The core knows no framework; the adapters plug in
through the ``asynq.apps`` entry-point group of the installed packages::

    [project.entry-points."asynq.apps"]
    starlette = "asynq_fastapi.worker_process:app_worker"

Each entry point is a **loader**: a function taking the object ``asynq worker`` loaded and
returning an :class:`AppWorker` when it recognises it, else ``None``. The entry point's name
is the top-level package whose objects it recognises, and a loader is only asked about an
object whose class, or one of its base classes, is defined in that package: a FastAPI app
(a ``starlette.applications.Starlette``) reaches the ``starlette`` loaders and nothing else,
and a plain handler reaches no loader at all, so no adapter (and no framework) is imported
for it. Loaders are asked in the order of the object's class hierarchy (most derived first),
then by entry-point value; the first :class:`AppWorker` wins.

Entry points come from the installed distributions' metadata, so they work whether or not the
app itself ever imported the adapter; a source tree put on ``sys.path`` without being
installed (``pip install -e .``) has none.

A loader is called once, in the process that loads the target, before any worker process is
forked: it may do there what every worker process shares (import task modules, check
settings). :attr:`AppWorker.run` then runs one worker server in the calling process (the only
one, or each forked child) until it is stopped, and raises :class:`~asynq.errors.AsynqError`
when it cannot start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asynq._entry_points import entry_points_for, load_entry_point
from asynq.connection import AsyncRedisLike
from asynq.errors import ValidationError

__all__ = ["ENTRY_POINT_GROUP", "AppLoader", "AppWorker", "WorkerRun", "find_app_worker"]

#: The entry-point group of the app loaders.
ENTRY_POINT_GROUP = "asynq.apps"


@dataclass(frozen=True)
class WorkerRun:
    """What the command line asks of an app's worker server.

    Attributes:
        overrides: :class:`~asynq.server.Config` settings by attribute name (``concurrency``,
            ``queues``, ``strict_priority``...), applied over the app's own; already checked.
        redis: Where to connect when given on the command line; ``None``: the app's own
            setting, else asynq's default (``asynq.configure()``, ``$ASYNQ_REDIS_URL``).
        burst: Stop (cleanly) once the served queues are drained, as ``Server.run(burst=True)``.
    """

    overrides: Mapping[str, Any] = field(default_factory=dict)
    redis: AsyncRedisLike | None = None
    burst: bool = False


@dataclass(frozen=True)
class AppWorker:
    """A framework app's worker, as a loader returns it.

    Attributes:
        app: The app object.
        run: Runs one worker server for the app in the calling process until SIGTERM/SIGINT
            (graceful, as ``Server.run``) or, in burst mode, until the queues are drained.
            Raises :class:`~asynq.errors.AsynqError` when it cannot start.
    """

    app: object
    run: Callable[[WorkerRun], None]


#: An ``asynq.apps`` entry point: the :class:`AppWorker` for an object it recognises, else None.
AppLoader = Callable[[object], AppWorker | None]


def find_app_worker(obj: object) -> AppWorker | None:
    """The :class:`AppWorker` the first loader recognising ``obj`` returns; ``None`` when no
    loader does (see the module docstring for which loaders are asked, in what order).

    Raises:
        ValidationError: a loader cannot be imported, or returns something else than an
            ``AppWorker`` or ``None``. A loader recognising the app but unable to run it
            raises its own ``AsynqError`` (an app without the adapter's set-up, say).
    """
    if isinstance(obj, AppWorker):
        return obj
    for entry in entry_points_for(ENTRY_POINT_GROUP, type(obj)):
        loader: AppLoader = load_entry_point(entry, "loader")
        worker = loader(obj)
        if worker is None:
            continue
        if not isinstance(worker, AppWorker):
            raise ValidationError(
                f"the {ENTRY_POINT_GROUP} loader {entry.value!r} returned "
                f"{type(worker).__name__}, not an AppWorker or None"
            )
        return worker
    return None
