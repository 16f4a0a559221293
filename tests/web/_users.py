"""What an embedding framework does in front of the dashboard: find the user, hand it over.

The "framework" here recognises its user by an ``x-user`` header or a ``user`` cookie (standing
in for a session) and puts the user object under ``asynq.user`` of the ASGI scope or the WSGI
environ, as the Django, FastAPI and Flask adapters do with their own user objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from asynq.web import DENY, READ, READ_WRITE, USER_KEY, Access, Viewer


@dataclass(frozen=True)
class User:
    """The attributes of a Django user the permission function looks at."""

    name: str
    is_staff: bool = False
    is_superuser: bool = False


PEOPLE = {
    "visitor": User("visitor"),
    "staff": User("staff", is_staff=True),
    "admin": User("admin", is_staff=True, is_superuser=True),
}


def staff_read_superuser_write(viewer: Viewer) -> Access:
    """Staff may look, superusers may act, everyone else is turned away."""
    user = viewer.user
    if not isinstance(user, User) or not user.is_staff:
        return DENY
    return READ_WRITE if user.is_superuser else READ


def _who(header: str | None, cookie_header: str | None) -> User | None:
    name = header
    if name is None and cookie_header:
        jar: SimpleCookie = SimpleCookie(cookie_header)
        name = jar["user"].value if "user" in jar else None
    return PEOPLE.get(name or "")


class AsgiLogin:
    """ASGI middleware: ``scope["asynq.user"]`` = the request's user (absent when anonymous)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            user = _who(
                headers.get(b"x-user", b"").decode() or None,
                headers.get(b"cookie", b"").decode() or None,
            )
            if user is not None:
                scope = dict(scope, **{USER_KEY: user})
        await self.app(scope, receive, send)


class WsgiLogin:
    """WSGI middleware: ``environ["asynq.user"]`` = the request's user (absent when anonymous)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        user = _who(environ.get("HTTP_X_USER"), environ.get("HTTP_COOKIE"))
        if user is not None:
            environ = dict(environ, **{USER_KEY: user})
        return self.app(environ, start_response)  # type: ignore[no-any-return]
