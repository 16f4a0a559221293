"""FastAPI integration for asynq.

::

    from fastapi import FastAPI
    from asynq_fastapi import AsynqClient, asynq_lifespan

    app = FastAPI(lifespan=asynq_lifespan("redis://localhost:6379/0"))

    @app.post("/signup")
    async def signup(email: str, client: AsynqClient) -> dict[str, str]:
        info = await client.enqueue(asynq.Task.from_json("email:welcome", {"to": email}))
        return {"task": info.id}

- :func:`asynq_lifespan`: one ``AsyncClient`` per process, opened and closed by the lifespan
  (optionally with a worker server beside the app);
- :func:`get_asynq_client` / :data:`AsynqClient`: the client as a dependency;
- :func:`task_events`: a task's live state and progress as Server-Sent Events;
- :func:`asynq_dashboard_router`: the dashboard as an ``APIRouter``, behind your dependencies;
- ``asynq worker myapp.main:app`` (or ``python -m asynq_fastapi worker myapp.main:app``): a
  worker process running inside the app's lifespan (:func:`run_app_worker`,
  :func:`lifespan_state`, :func:`current_app`);
- ``Depends(...)`` parameters of task functions, made in the worker for each run as FastAPI
  makes them for a request (:mod:`asynq_fastapi.depends`; an installed entry point, so the
  task modules need not import this package).

See ``docs/fastapi.md``. Needs the ``fastapi`` extra: ``pip install 'asynq-python[fastapi]'``.
"""

from __future__ import annotations

from asynq.errors import MissingDependencyError

try:
    import fastapi  # noqa: F401 - fail here, with the extra's name, rather than deeper
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        "asynq_fastapi needs the 'fastapi' extra: pip install 'asynq-python[fastapi]'"
    ) from exc

from asynq_fastapi import depends as _depends  # noqa: F401 - registers the Depends source
from asynq_fastapi.dashboard import asynq_dashboard_router
from asynq_fastapi.dependencies import AsynqClient, LifespanNotRunningError, get_asynq_client
from asynq_fastapi.lifespan import AsynqLifespan, asynq_lifespan
from asynq_fastapi.progress import task_events
from asynq_fastapi.worker import current_app, lifespan_state, run_app_worker

__all__ = [
    "AsynqClient",
    "AsynqLifespan",
    "LifespanNotRunningError",
    "asynq_dashboard_router",
    "asynq_lifespan",
    "current_app",
    "get_asynq_client",
    "lifespan_state",
    "run_app_worker",
    "task_events",
]
