"""The asynq web dashboard: a framework-neutral ASGI app (plus a WSGI wrapper).

Queues with size/latency/memory and processed/failed charts, tasks by state with per-row and
bulk actions, task details, servers, schedulers, Redis info, a Prometheus ``/metrics`` endpoint
and a JSON API under ``/api``. It reads and writes only through
:class:`~asynq.inspector.AsyncInspector`.

::

    from asynq.web import create_app
    app = create_app("redis://localhost:6379/0")      # any ASGI server, or app.mount("/asynq", ...)

    from asynq.web import create_wsgi_app
    wsgi = create_wsgi_app("redis://localhost:6379/0")  # Flask / Django / gunicorn

Who may do what is decided per request: the host puts its user under ``scope["asynq.user"]``
(ASGI) or ``environ["asynq.user"]`` (WSGI), and ``permissions(viewer) -> Access`` answers, e.g.
staff may read, superusers may act::

    def permissions(viewer: Viewer) -> Access:
        user = viewer.user
        if user is None or not user.is_staff:
            return DENY
        return READ_WRITE if user.is_superuser else READ

Needs the ``web`` extra: ``pip install 'asynq-python[web]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asynq.errors import MissingDependencyError

try:
    from starlette.exceptions import HTTPException

    from asynq.web._access import (
        DENY,
        READ,
        READ_WRITE,
        USER_KEY,
        Access,
        PermissionHook,
        Viewer,
        scope_headers,
    )
    from asynq.web._app import AuthHook, Dashboard, create_app
    from asynq.web._wsgi import AsgiToWsgi
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        f"asynq.web needs the 'web' extra ({exc.name} is missing): pip install 'asynq-python[web]'"
    ) from exc

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from asynq.connection import AsyncRedisLike
    from asynq.inspector import AsyncInspector


def create_wsgi_app(
    inspector_or_redis: AsyncInspector | AsyncRedisLike | None = None, **options: Any
) -> AsgiToWsgi:
    """The dashboard as a WSGI application, for Flask, Django or any WSGI server.

    Takes the same arguments as :func:`create_app`. Pass a Redis URL or ``RedisConnection``
    rather than an ``AsyncInspector``: the app runs on its own event loop in a background
    thread, and asyncio Redis connections cannot move between loops. Mount it under a prefix
    with the host's tools (``SCRIPT_NAME`` becomes the dashboard's root path), e.g.
    ``werkzeug.middleware.dispatcher.DispatcherMiddleware(app.wsgi_app, {"/asynq": wsgi})``.

    Returns:
        A WSGI callable; its ``close()`` stops the loop and closes Redis connections.
    """
    app = create_app(inspector_or_redis, **options)
    dashboard: Dashboard = app.state.asynq
    return AsgiToWsgi(app, shutdown=dashboard.aclose)


def bearer_token_auth(token: str) -> Callable[[Mapping[str, Any]], bool]:
    """An auth hook accepting requests with ``Authorization: Bearer <token>``.

    Compared in constant time. Browsers cannot add the header by themselves, so this suits a
    dashboard behind a proxy that injects it, or API/metrics clients.
    """
    import hmac

    expected = f"Bearer {token}".encode()

    def check(scope: Mapping[str, Any]) -> bool:
        given = scope_headers(scope).get("authorization", "").encode("latin-1")
        return hmac.compare_digest(given, expected)

    return check


__all__ = [
    "DENY",
    "READ",
    "READ_WRITE",
    "USER_KEY",
    "Access",
    "AsgiToWsgi",
    "AuthHook",
    "Dashboard",
    "HTTPException",
    "PermissionHook",
    "Viewer",
    "bearer_token_auth",
    "create_app",
    "create_wsgi_app",
    "scope_headers",
]
