"""asynq's web dashboard (:mod:`asynq.web`) served by Django views, for Django's users.

The dashboard's WSGI form is built once per process (per Redis) and called from a Django view,
which hands it the request with the Django user's access already decided (the dashboard's own
event loop thread must not query the database): ``view_dashboard`` reads, ``manage_tasks``
acts. Superusers have both. The dashboard checks its own CSRF token on every mutation (its
secret derives from ``SECRET_KEY``, so every process accepts every other's tokens), asks for a
confirmation before destructive actions, and every mutation that succeeds is written to the
admin's ``LogEntry`` history.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac

from asynq_django.conf import AsynqSettings, get_settings

VIEW_PERMISSION = "asynq_django.view_dashboard"
MANAGE_PERMISSION = "asynq_django.manage_tasks"


@dataclass(frozen=True)
class DashboardUser:
    """What the dashboard learns about the Django user: decided in the request's thread."""

    username: str
    can_view: bool
    can_manage: bool


def user_access(user: Any) -> DashboardUser:
    """The dashboard access of a Django user: staff with ``view_dashboard`` read, staff with
    ``manage_tasks`` also act; anyone else gets nothing."""
    if user is None or not user.is_active or not user.is_staff:
        return DashboardUser("", False, False)
    manage = user.has_perm(MANAGE_PERMISSION)
    view = manage or user.has_perm(VIEW_PERMISSION)
    return DashboardUser(user.get_username(), view, manage)


def bearer_token_matches(request: HttpRequest, settings: AsynqSettings) -> bool:
    """Whether the request carries ``Authorization: Bearer <ASYNQ API_TOKEN>`` (never true
    without a token configured)."""
    token = settings.api_token
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(given, token)


def _permissions(viewer: Any) -> Any:
    from asynq.web import DENY, READ, READ_WRITE

    user = viewer.user
    if not isinstance(user, DashboardUser) or not user.can_view:
        return DENY
    return READ_WRITE if user.can_manage else READ


_lock = threading.Lock()
_apps: dict[str, Any] = {}


def dashboard_app(settings: AsynqSettings) -> Callable[..., Iterable[bytes]]:
    """The dashboard's WSGI app for ``settings``' Redis (built on first use)."""
    from asynq.web import create_wsgi_app

    key = repr((settings.redis_url, settings.cluster, sorted(settings.redis_options.items())))
    with _lock:
        app = _apps.get(key)
        if app is None:
            secret = salted_hmac("asynq_django.dashboard", "csrf", algorithm="sha256").digest()
            app = _apps[key] = create_wsgi_app(
                settings.connection(), permissions=_permissions, csrf_secret=secret
            )
        return app  # type: ignore[no-any-return]


def close_dashboards() -> None:
    """Stop every dashboard app (their event loops and Redis connections)."""
    with _lock:
        apps = list(_apps.values())
        _apps.clear()
    for app in apps:
        app.close()


def forward(request: HttpRequest, subpath: str, user: DashboardUser) -> HttpResponse:
    """Answer ``request`` with the dashboard mounted where ``subpath`` begins in its URL."""
    path_info = "/" + subpath
    full = request.path
    script_name = full[: len(full) - len(subpath)].rstrip("/") if subpath else full.rstrip("/")
    environ = {key: value for key, value in request.META.items() if isinstance(value, str)}
    body = request.body
    environ.update(
        {
            "REQUEST_METHOD": request.method or "GET",
            "SCRIPT_NAME": script_name,
            "PATH_INFO": path_info,
            "QUERY_STRING": request.META.get("QUERY_STRING", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": request.scheme,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "asynq.user": user,
        }
    )
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started["status"], started["headers"] = status, headers
        return lambda data: None

    chunks = dashboard_app(get_settings())(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    response = HttpResponse(content, status=int(started["status"].split()[0]))
    for name, value in started["headers"]:
        if name.lower() == "set-cookie":
            _add_cookie(response, value)
        elif name.lower() not in ("content-length",):
            response[name] = value
    return response


def _add_cookie(response: HttpResponse, header: str) -> None:
    # Django keeps cookies apart from headers; parse the dashboard's Set-Cookie back into one.
    from http.cookies import SimpleCookie

    cookie = SimpleCookie()
    cookie.load(header)
    for name, morsel in cookie.items():
        response.cookies[name] = morsel.value
        for attribute in ("path", "max-age", "expires", "samesite", "httponly", "secure"):
            if morsel[attribute]:
                response.cookies[name][attribute] = morsel[attribute]
