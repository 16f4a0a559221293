"""The client as a FastAPI dependency: :func:`get_asynq_client` and the :data:`AsynqClient`
alias for route signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

import asynq
from asynq_fastapi.lifespan import STATE_KEY

__all__ = ["AsynqClient", "LifespanNotRunningError", "get_asynq_client"]


class LifespanNotRunningError(asynq.AsynqError, RuntimeError):
    """A route asked for the asynq client, but no ``asynq_lifespan`` opened one."""


def get_asynq_client(request: HTTPConnection) -> asynq.AsyncClient:
    """The app's :class:`asynq.AsyncClient`, opened by :func:`~asynq_fastapi.asynq_lifespan`.

    Use it with ``Depends(get_asynq_client)`` or through the :data:`AsynqClient` alias, in
    HTTP and WebSocket routes alike (``request`` is either connection); replace it in tests
    with ``app.dependency_overrides[get_asynq_client] = ...``.

    Raises:
        LifespanNotRunningError: the app's lifespan opened no client (it has no
            ``asynq_lifespan``), so the route cannot enqueue.
    """
    # Lifespan state first (Starlette copies it into every request's scope), then app.state.
    client = request.scope.get("state", {}).get(STATE_KEY)
    if client is None:
        client = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(client, asynq.AsyncClient):
        raise LifespanNotRunningError(
            "no asynq client: the app's lifespan did not open one. Add it with "
            "FastAPI(lifespan=asynq_lifespan(...)) or enter asynq_lifespan(...)(app) inside "
            "your own lifespan (from asynq_fastapi import asynq_lifespan)"
        )
    return client


#: ``client: AsynqClient`` in a route's signature injects the app's client.
AsynqClient = Annotated[asynq.AsyncClient, Depends(get_asynq_client)]
