"""The asynq dashboard as a FastAPI ``APIRouter``, for ``app.include_router(...)``.

Why a router and not ``app.mount("/asynq", create_app(...))``: a mounted sub-app's lifespan
never runs, and a router is protected by ordinary FastAPI dependencies (the app's own login),
shares the app's Redis client and appears in the app's middleware. The pages, the JSON API and
the static files are those of :mod:`asynq.web`; the router forwards every request under its
prefix to that ASGI app, after the router's dependencies have run.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.params import Depends as DependsParam
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

import asynq
from asynq.web import USER_KEY, PermissionHook, create_app
from asynq_fastapi.dependencies import get_asynq_client

__all__ = ["asynq_dashboard_router"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class _Forward(Response):
    """A response that hands the request over to another ASGI app, under a new scope."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        super().__init__()
        self._app = app
        self._scope = scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(self._scope, receive, send)


class _Dashboards:
    """The dashboard app(s) the router forwards to: one on its own Redis connection, or one
    per client of the app's ``asynq_lifespan`` (a new lifespan opens a new client)."""

    def __init__(self, redis: asynq.AsyncRedisLike | None, options: dict[str, Any]) -> None:
        self._redis = redis
        self._options = options
        self._own: ASGIApp | None = None
        self._by_client: weakref.WeakKeyDictionary[asynq.AsyncClient, ASGIApp] = (
            weakref.WeakKeyDictionary()
        )

    def for_request(self, request: Request) -> ASGIApp:
        if self._redis is not None:
            if self._own is None:
                self._own = create_app(self._redis, **self._options)
            return self._own
        client = get_asynq_client(request)
        app = self._by_client.get(client)
        if app is None:
            # The inspector borrows the client's redis-py client: nothing more to open or close.
            inspector = asynq.AsyncInspector(client.redis)
            app = self._by_client[client] = create_app(inspector, **self._options)
        return app

    async def aclose(self) -> None:
        """Close the dashboard's own Redis connection (a borrowed one is the lifespan's)."""
        if self._own is not None:
            await self._own.state.asynq.aclose()  # type: ignore[attr-defined]
            self._own = None


def _dashboard_scope(request: Request, user: Any) -> Scope:
    """The request's scope as the dashboard sees it: mounted at the router's prefix."""
    path = str(request.scope["path"])
    rest = str(request.path_params.get("path", ""))
    root = path[: len(path) - len(rest)].rstrip("/") if rest else path.rstrip("/")
    return {**request.scope, "root_path": root, USER_KEY: user}


def asynq_dashboard_router(
    redis: asynq.AsyncRedisLike | None = None,
    *,
    prefix: str = "/asynq",
    dependencies: Sequence[DependsParam] | None = None,
    user: Callable[..., Any] | None = None,
    permissions: PermissionHook | None = None,
    read_only: bool = False,
    csrf_secret: bytes | str | None = None,
    **options: Any,
) -> APIRouter:
    """The dashboard (pages, JSON API, static files) as an ``APIRouter`` to include in the app.

    ::

        app.include_router(
            asynq_dashboard_router(prefix="/asynq", dependencies=[Depends(require_admin)])
        )

    Every request under ``prefix`` first runs ``dependencies`` — put the app's authentication
    there: a dependency raising ``HTTPException(401)`` or ``403`` refuses the request before
    the dashboard sees it. ``user``, a dependency too, names who is asking; its value reaches
    ``permissions(viewer)`` as ``viewer.user`` (see :mod:`asynq.web`), e.g. to let staff look
    and only admins act.

    Args:
        redis: Where the dashboard reads (a URL, ``RedisConnection`` or ``redis.asyncio``
            client). Default: the client of the app's ``asynq_lifespan``, borrowed for each
            request (nothing more to open or close).
        prefix: Where the dashboard lives in the app.
        dependencies: FastAPI dependencies run for every dashboard request.
        user: A dependency returning the current user, handed to ``permissions``.
        permissions: ``permissions(viewer) -> asynq.web.Access`` (or awaitable), per request.
        read_only: Nobody may change anything (mutations answer 405).
        csrf_secret: Key for the CSRF tokens; give the same one to every process serving the
            app behind one address (default: random per process).
        options: The other options of :func:`asynq.web.create_app` (``refresh_interval``,
            ``page_size``, ``max_payload_length``, ``title``).

    Raises:
        ValidationError: ``prefix`` does not start with ``/``.
    """
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise asynq.ValidationError(
            f"the dashboard prefix must start with / and not end with one, not {prefix!r}"
        )
    dashboards = _Dashboards(
        redis,
        {
            **options,
            "permissions": permissions,
            "read_only": read_only,
            "csrf_secret": csrf_secret or secrets.token_bytes(32),
        },
    )

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await dashboards.aclose()

    router = APIRouter(
        prefix=prefix,
        dependencies=list(dependencies or []),
        lifespan=lifespan,
        include_in_schema=False,
    )

    async def no_user() -> None:
        return None

    # A variable, not the call in place: the annotations are strings (postponed evaluation),
    # which FastAPI resolves in the module's globals, where this function's locals are not.
    who_is_asking = Depends(user or no_user)

    async def forward(request: Request, who: Any = who_is_asking) -> Response:
        return _Forward(dashboards.for_request(request), _dashboard_scope(request, who))

    async def to_index(request: Request) -> Response:
        return RedirectResponse(str(request.url.replace(path=request.url.path + "/")))

    router.add_api_route("", to_index, methods=["GET", "HEAD"])
    router.add_api_route("/{path:path}", forward, methods=_METHODS)
    return router
