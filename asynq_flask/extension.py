"""The Flask extension: :class:`Asynq`.

One ``Asynq`` object serves any number of apps (``init_app`` per app, the factory pattern):
the task functions live on the object, each app's settings live in
``app.extensions["asynq"]`` (an :class:`AsynqState`), and nothing refers back to one app.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, overload

from flask import Flask, current_app

import asynq
from asynq import ActiveTask, TaskFunction, TaskRegistry
from asynq.server import Config
from asynq_flask.settings import AsynqSettings, read_settings
from asynq_flask.worker import server_config

if TYPE_CHECKING:
    from typing import Unpack

    from asynq._functions import TaskDecorator, TaskFunctionOptions

__all__ = ["EXTENSION_KEY", "Asynq", "AsynqState"]

P = ParamSpec("P")
R = TypeVar("R")

#: Where ``init_app`` keeps the app's :class:`AsynqState`: ``app.extensions["asynq"]``.
EXTENSION_KEY = "asynq"

_log = logging.getLogger("asynq_flask")
#: The URL and app name an ``init_app`` last pointed the process's default clients at.
_pointed: tuple[str, str] | None = None


def _point_default_clients(app: Flask, url: str) -> None:
    """``asynq.configure(url)``, saying so when another app of this process had pointed the
    process's clients elsewhere (they are per process, not per app)."""
    global _pointed
    if _pointed is not None and _pointed[0] != url:
        _log.warning(
            "app %r points asynq's default clients at another Redis than app %r did; task "
            "functions of both now enqueue there",
            app.name,
            _pointed[1],
        )
    asynq.configure(url)
    _pointed = (url, app.name)


@dataclass(frozen=True)
class AsynqState:
    """What one app registered: the extension and the settings read from its config."""

    extension: Asynq
    settings: AsynqSettings


class Asynq:
    """asynq for Flask apps: settings from ``app.config``, task functions, ``flask asynq``.

    ::

        asynq = Asynq()                       # or Asynq(app)

        @asynq.task("email:welcome", queue="critical")
        def send_welcome(user_id: int) -> None:
            user = db.session.get(User, user_id)   # runs inside a fresh app context
            ...

        def create_app() -> Flask:
            app = Flask(__name__)
            app.config["ASYNQ_REDIS_URL"] = "redis://localhost:6379/0"
            asynq.init_app(app)
            return app

        send_welcome.enqueue(42)              # from a view: sent to Redis
        # flask --app myapp:create_app asynq worker   runs it

    Attributes:
        registry: The task functions registered with :meth:`task`, by type name.
    """

    def __init__(self, app: Flask | None = None) -> None:
        self.registry = TaskRegistry()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register the extension on ``app``: read its settings, point asynq's default clients
        at its Redis and add the ``flask asynq`` commands.

        Config keys read (every one optional; the defaults are set with
        ``app.config.setdefault``, so ``app.config`` shows what is in force):

        - ``ASYNQ_REDIS_URL`` (``None``): where task functions enqueue, and where the worker,
          scheduler and commands connect. ``None`` keeps asynq's default
          (``asynq.configure()``, else ``$ASYNQ_REDIS_URL``, else
          ``redis://127.0.0.1:6379/0``). The clients are asynq's default clients: one per
          process (a forked worker of a pre-forking server makes its own), shared by every app
          of the process that names the same URL.
        - ``ASYNQ_IMPORTS`` (``()``): modules ``flask asynq worker`` imports before it starts,
          so that the task functions defined there register.
        - ``ASYNQ_SCHEDULER`` (``None``): the ``"module:object"`` scheduler (a
          ``asynq.Scheduler``, ``PeriodicTaskManager`` or periodic task config provider) that
          ``flask asynq scheduler`` runs when given no target.
        - ``ASYNQ_QUEUES`` (``{"default": 1}``): the queues the worker processes, with their
          priorities.
        - ``ASYNQ_CONCURRENCY`` (``0``: the number of CPUs): tasks the worker runs at once.
        - ``ASYNQ_STRICT_PRIORITY`` (``False``): drain higher priority queues first.
        - ``ASYNQ_SHUTDOWN_TIMEOUT`` (``8``): seconds the worker waits for running tasks when
          told to stop.
        - Any other field of :class:`asynq.server.Config`, as ``ASYNQ_<FIELD>``:
          ``ASYNQ_TASK_CHECK_INTERVAL``, ``ASYNQ_DELAYED_TASK_CHECK_INTERVAL``,
          ``ASYNQ_HEALTH_CHECK_INTERVAL``, ``ASYNQ_GROUP_GRACE_PERIOD``,
          ``ASYNQ_GROUP_MAX_DELAY``, ``ASYNQ_GROUP_MAX_SIZE``, ``ASYNQ_JANITOR_INTERVAL``,
          ``ASYNQ_JANITOR_BATCH_SIZE``, ``ASYNQ_DIRECT_HANDOFF``, and the callbacks
          ``ASYNQ_ERROR_HANDLER``, ``ASYNQ_RETRY_DELAY_FUNC``, ``ASYNQ_IS_FAILURE``,
          ``ASYNQ_GROUP_AGGREGATOR``, ``ASYNQ_HEALTH_CHECK_FUNC``, the hooks
          ``ASYNQ_TASK_WRAPPER`` and ``ASYNQ_THREAD_WRAPPER`` (objects or
          ``"module:attr"`` import paths) and ``ASYNQ_LOGGER`` (a logger name).

        Values may come from the environment through ``app.config.from_prefixed_env()``
        (``FLASK_ASYNQ_CONCURRENCY=4``). They are read here, once.

        Raises:
            RuntimeError: an ``Asynq`` extension is registered on ``app`` already.
            asynq.ValidationError: a key is unknown (the message names the close matches) or
                has a value the server would refuse.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "An 'Asynq' instance has already been registered on this Flask app. Import "
                "and use that instance instead."
            )
        settings = read_settings(app.config)
        if settings.redis_url is not None:
            _point_default_clients(app, settings.redis_url)
        app.extensions[EXTENSION_KEY] = AsynqState(self, settings)
        from asynq_flask.cli import asynq_cli  # the commands need click, which Flask brings

        app.cli.add_command(asynq_cli)

    # -- task functions -----------------------------------------------------------------------

    @overload
    def task(self, fn: Callable[Concatenate[ActiveTask, P], R], /) -> TaskFunction[P, R]: ...
    @overload
    def task(self, fn: Callable[P, R], /) -> TaskFunction[P, R]: ...
    @overload
    def task(
        self, name: str | None = None, /, **options: Unpack[TaskFunctionOptions]
    ) -> TaskDecorator: ...
    def task(self, fn_or_name: Any = None, /, **options: Any) -> Any:
        """Register a task function (``def`` or ``async def``) on this extension.

        ``@asynq.task`` names the task after the function's dotted path;
        ``@asynq.task("email:welcome", queue=..., max_retry=..., ...)`` names it and attaches
        options, as :meth:`asynq.TaskRegistry.task` does. The handle's ``enqueue()``,
        ``enqueue_in()`` and ``enqueue_at()`` send through the app's Redis, and
        ``flask asynq worker`` runs the function, inside a fresh app context per task.

        Raises:
            asynq.ValidationError: the name is blank or taken, or an option is invalid.
        """
        return self.registry.task(fn_or_name, **options)

    def enqueue_on_commit(self, task: Any, /, *args: Any, **kwargs: Any) -> None:
        """Enqueue when the current app's Flask-SQLAlchemy session commits; drop it if the
        session rolls back (savepoints included).

        ``task`` is a task function, then its arguments, or an :class:`asynq.Task`, then its
        enqueue options: see :func:`asynq.sqlalchemy.enqueue_on_commit`, which this calls with
        ``db.session``. With no transaction in progress the task is sent at once.

        Raises:
            RuntimeError: outside an app context, or the app has no Flask-SQLAlchemy.
            asynq.ValidationError: the arguments or options are invalid.
        """
        from asynq.sqlalchemy import enqueue_on_commit

        db = current_app.extensions.get("sqlalchemy")
        session = getattr(db, "session", None)
        if session is None:
            raise RuntimeError(
                f"The Flask app {current_app.name!r} has no Flask-SQLAlchemy extension; for "
                "another session call asynq.sqlalchemy.enqueue_on_commit(session, ...)."
            )
        enqueue_on_commit(session, task, *args, **kwargs)

    # -- per-app state ------------------------------------------------------------------------

    def state(self, app: Flask | None = None) -> AsynqState:
        """The :class:`AsynqState` of ``app`` (default: the current app).

        Raises:
            RuntimeError: outside an app context with no ``app`` given, or the app was not
                registered with this extension.
        """
        target = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
        found = target.extensions.get(EXTENSION_KEY)
        if not isinstance(found, AsynqState) or found.extension is not self:
            raise RuntimeError(
                f"The Flask app {target.name!r} is not registered with this Asynq instance; "
                "call asynq.init_app(app) in the app factory."
            )
        return found

    def server_config(self, app: Flask | None = None, **changes: Any) -> Config:
        """The worker server's configuration for ``app`` (default: the current app): its
        ``ASYNQ_*`` settings with ``changes`` applied, and hooks that run every task function
        inside a fresh app context of that app. Run it with this extension's
        :attr:`registry`::

            Server(redis_url, asynq.server_config(app)).run(asynq.registry)

        Raises:
            RuntimeError: as :meth:`state`.
            asynq.ValidationError: a change the server refuses.
        """
        target = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
        config = dataclasses.replace(self.state(target).settings.server, **changes)
        return server_config(target, self.registry, config)
