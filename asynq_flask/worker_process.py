"""A Flask app as the target of a worker process: ``asynq worker myapp:app``.

:func:`app_worker` is the adapter's ``asynq.apps`` loader (see :mod:`asynq.apps`): given a Flask
app registered with an :class:`~asynq_flask.Asynq` extension it returns the worker that
:func:`asynq.runner.run_worker` runs, the one ``flask asynq worker`` runs too: the extension's
task functions, each inside a fresh app context, with the app's ``ASYNQ_*`` server settings
(the command line's settings over them) on the app's ``ASYNQ_REDIS_URL``.

With ``--processes N`` the app is created once and the worker processes are forked from it;
the database connections its Flask-SQLAlchemy engines pooled at start-up (``db.create_all()``
in the factory) belong to that first process, so each forked process drops them from its
pools, unclosed, before its first task (SQLAlchemy's way of using an engine after a fork).
"""

from __future__ import annotations

import os

from flask import Flask

from asynq._imports import import_module
from asynq.apps import AppWorker, WorkerRun
from asynq.errors import ValidationError
from asynq.server import Server
from asynq_flask.extension import EXTENSION_KEY, AsynqState

__all__ = ["app_worker"]


def app_worker(app: object) -> AppWorker | None:
    """The worker of ``app`` when it is a Flask app, else ``None``.

    Imports the app's ``ASYNQ_IMPORTS`` modules (once, before any worker process is forked).

    Raises:
        ValidationError: the app has no asynq extension, or a module does not import.
    """
    if not isinstance(app, Flask):
        return None
    state = app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, AsynqState):
        raise ValidationError(
            f"the Flask app {app.name!r} has no asynq extension: call Asynq(app) or "
            "asynq.init_app(app) in the app factory"
        )
    for name in state.settings.imports:
        import_module(name)
    loaded_in = os.getpid()

    def run(request: WorkerRun) -> None:
        if os.getpid() != loaded_in:
            _drop_inherited_connections(app)
        config = state.extension.server_config(app, **request.overrides)
        redis = request.redis if request.redis is not None else state.settings.redis_url
        Server(redis, config).run(state.extension.registry, burst=request.burst)

    return AppWorker(app, run)


def _drop_inherited_connections(app: Flask) -> None:
    """In a forked process: forget the pooled connections of ``app``'s Flask-SQLAlchemy
    engines without closing them (the process that opened them still owns them)."""
    db = app.extensions.get("sqlalchemy")
    if db is None:
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
