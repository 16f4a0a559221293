"""A FastAPI app as the target of a worker process: ``asynq worker myapp.main:app``.

:func:`app_worker` is the adapter's ``asynq.apps`` loader (see :mod:`asynq.apps`): given a
FastAPI (any Starlette) app it returns the worker that :func:`asynq.runner.run_worker` runs,
in the process itself or in each forked worker process: :func:`~asynq_fastapi.run_app_worker`
on an event loop of its own, entering the app's lifespan there, after the fork. It is asked
only about objects whose class comes from ``starlette`` (a FastAPI app's does), so the
adapter is imported only for them, and whether or not the app itself uses the adapter.
``python -m asynq_fastapi worker`` runs the same worker, with ``--tasks`` on top.
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette

from asynq.apps import AppWorker, WorkerRun
from asynq.servemux import Handler
from asynq_fastapi.worker import run_app_worker

__all__ = ["app_worker"]


def app_worker(app: object, tasks: Handler | None = None) -> AppWorker | None:
    """The worker of ``app`` when it is a Starlette (FastAPI) app, else ``None``.

    Args:
        app: The object ``asynq worker`` loaded.
        tasks: What the worker runs; default: the app's ``asynq_lifespan(tasks=...)``, else
            :data:`asynq.default_registry`.
    """
    if not isinstance(app, Starlette):
        return None

    def run(request: WorkerRun) -> None:
        asyncio.run(
            run_app_worker(
                app,
                tasks,
                redis=request.redis,
                overrides=request.overrides,
                burst=request.burst,
            )
        )

    return AppWorker(app, run)
