"""The dashboard application: :func:`create_app` builds one ASGI app with all its state on it.

Layout of one request: :class:`Guard` (prefix, authentication, permissions, security headers) →
Starlette's router → a page (:mod:`asynq.web._pages`) or an API endpoint (:mod:`asynq.web._api`),
all of them bound to one :class:`Dashboard` object. Nothing lives in module globals, so several
dashboards (different Redis, prefixes or settings) can run in one process.
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from asynq._dashboard import format as fmt
from asynq._version import __version__
from asynq.connection import AsyncRedisLike
from asynq.errors import (
    AsynqError,
    BrokerError,
    FailedPreconditionError,
    QueueNotEmptyError,
    QueueNotFoundError,
    TaskNotFoundError,
    ValidationError,
    is_damaged_data,
)
from asynq.inspector import AsyncInspector, Inspector
from asynq.web._access import (
    ACCESS_KEY,
    DENY,
    READ,
    READ_WRITE,
    SAFE_METHODS,
    Access,
    PermissionHook,
    Viewer,
    access_of,
    host_allowed,
    request_host,
    route_path,
)
from asynq.web._csrf import COOKIE, Csrf

#: ``auth(scope) -> bool`` (or awaitable): ``False`` answers 403; raising
#: ``starlette.exceptions.HTTPException`` answers with its status and headers.
AuthHook = Callable[[Mapping[str, Any]], "bool | Awaitable[bool]"]

FLASH_COOKIE = "asynq_flash"
_T = TypeVar("_T")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Options of one dashboard (see :func:`create_app`)."""

    root_path: str = ""
    read_only: bool = False
    refresh_interval: float = 5.0
    page_size: int = 20
    max_payload_length: int = 200
    title: str = "asynq"
    allowed_hosts: frozenset[str] | None = None


def status_of(exc: AsynqError) -> int:
    """The HTTP status for an asynq error (502 for damaged data, 503 when Redis is unreachable)."""
    if isinstance(exc, QueueNotFoundError | TaskNotFoundError):
        return 404
    if isinstance(exc, QueueNotEmptyError | FailedPreconditionError):
        return 409
    if isinstance(exc, ValidationError):
        return 400
    if is_damaged_data(exc):
        return 502  # Redis answers, but for damaged data: a bad answer from upstream
    if isinstance(exc, BrokerError):
        return 503
    return 500


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("asynq.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        duration=fmt.duration,
        relative=fmt.relative,
        iso=fmt.iso,
        human_bytes=fmt.human_bytes,
        preview=fmt.preview,
        urlq=_urlq,
        seg=path_segment,
    )
    env.globals.update(error_rate=fmt.error_rate, show_bytes=fmt.show_bytes, version=__version__)
    return env


def _urlq(value: Any) -> str:
    """``value`` escaped for a query string argument."""
    return quote(str(value), safe="")


def path_segment(value: Any) -> str:
    """``value`` escaped for one path segment of a dashboard URL: quoted twice.

    Servers decode a path once before routing, so a ``/`` quoted once (``%2F``) would reach
    the router as a separator: quoted twice it arrives as ``%2F`` and :class:`EscapedRoute`
    decodes it into the parameter. Queue names and task ids may hold ``/``, ``?``, ``#``...
    """
    return quote(quote(str(value), safe=""), safe="")


class EscapedRoute(Route):
    """A route whose path parameters come quoted by :func:`path_segment` and are decoded here.

    A plain name (no ``%``) reads the same either way, so hand-typed URLs keep working.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match as :class:`~starlette.routing.Route` does, then decode the parameters."""
        match, child = super().matches(scope)
        params = child.get("path_params")
        if match is not Match.NONE and params:
            child["path_params"] = {
                k: unquote(v) if isinstance(v, str) else v for k, v in params.items()
            }
        return match, child


class Dashboard:
    """The state of one dashboard app: inspector, settings, CSRF secret, templates.

    Args:
        source: An :class:`~asynq.inspector.AsyncInspector` (the caller keeps ownership), or
            anything :class:`~asynq.inspector.AsyncInspector` accepts (Redis URL,
            ``RedisConnection``, ``redis.asyncio`` client, ``None`` for ``$ASYNQ_REDIS_URL``);
            then the inspector is opened on first use and closed at shutdown.
    """

    def __init__(
        self,
        source: AsyncInspector | AsyncRedisLike | None,
        settings: Settings,
        *,
        auth: AuthHook | None = None,
        permissions: PermissionHook | None = None,
        csrf_secret: bytes | str | None = None,
    ) -> None:
        if isinstance(source, Inspector):
            raise ValidationError(
                "the dashboard needs an AsyncInspector (or a Redis URL), not a blocking Inspector"
            )
        self._inspector: AsyncInspector | None = None
        self._source: AsyncRedisLike | None = None
        self._owned = not isinstance(source, AsyncInspector)
        if isinstance(source, AsyncInspector):
            self._inspector = source
        else:
            self._source = source
        self.settings = settings
        self.auth = auth
        self.permissions = permissions
        self.csrf = Csrf(csrf_secret)
        self.templates = _templates()

    @property
    def inspector(self) -> AsyncInspector:
        """The inspector, opened on first use (inside the serving event loop)."""
        if self._inspector is None:
            self._inspector = AsyncInspector(self._source)
        return self._inspector

    async def aclose(self) -> None:
        """Close the inspector if this dashboard opened it."""
        if self._owned and self._inspector is not None:
            await self._inspector.close()
            self._inspector = None

    # --- helpers used by pages and API -------------------------------------------------------

    @staticmethod
    def root(request: Request) -> str:
        """The URL prefix the dashboard is served under (no trailing slash)."""
        return str(request.scope.get("root_path", "")).rstrip("/")

    def cookie_path(self, request: Request) -> str:
        """Path attribute for our cookies: the prefix, so mounted dashboards stay apart."""
        return self.root(request) or "/"

    def render(self, request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
        """Render a page with the CSRF token, flash message and navigation context."""
        cookie = request.cookies.get(COOKIE)
        new_cookie = None
        if not cookie or len(cookie) > 64:
            cookie = new_cookie = Csrf.new_cookie()
        flash = _read_flash(request.cookies.get(FLASH_COOKIE))
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        ctx.setdefault("nav", "")
        html = self.templates.get_template(template).render(
            root=self.root(request),
            settings=self.settings,
            csrf_token=self.csrf.token(cookie),
            can_write=access_of(request.scope).write,
            flash=flash,
            here=here,
            **ctx,
        )
        resp = HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})
        if new_cookie:
            self.set_cookie(request, resp, COOKIE, new_cookie)
        if flash:
            resp.delete_cookie(FLASH_COOKIE, path=self.cookie_path(request))
        return resp

    def set_cookie(
        self,
        request: Request,
        response: Response,
        name: str,
        value: str,
        max_age: int | None = None,
    ) -> None:
        """Set one of the dashboard's cookies: under its prefix, out of reach of scripts, never
        sent by another site's requests, and only over HTTPS when served over HTTPS."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.cookie_path(request),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    def set_flash(self, request: Request, response: Response, level: str, text: str) -> None:
        """Show ``text`` once on the next page."""
        value = base64.urlsafe_b64encode(json.dumps({"level": level, "text": text}).encode())
        self.set_cookie(request, response, FLASH_COOKIE, value.decode("ascii"), max_age=60)

    def error_response(self, request: Request, status: int, message: str) -> Response:
        """JSON for the API, an HTML page otherwise."""
        if route_path(request.scope).startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return self.render(
            request, "error.html", status=status, status_code=status, message=message
        )


def _read_flash(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    if not isinstance(data, dict):
        return None
    return {"level": str(data.get("level", "ok")), "text": str(data.get("text", ""))}


class Guard:
    """Outer ASGI middleware: URL prefix, authentication and permissions, security headers.

    Each HTTP request is checked in this order: the ``auth`` hook (a gate: ``False`` answers
    403), the ``permissions`` hook (no ``read``: 403), ``read_only`` (a mutation answers 405, as
    Asynqmon's read-only mode does), then ``write`` (a mutation without it answers 403). The
    decided :class:`~asynq.web.Access` is left in the scope for the pages.
    """

    def __init__(self, app: ASGIApp, dashboard: Dashboard) -> None:
        self.app = app
        self.dash = dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        prefix = self.dash.settings.root_path.rstrip("/")
        if prefix and not scope.get("root_path"):
            scope = dict(scope, root_path=prefix)
            if not str(scope["path"]).startswith(prefix):
                scope["path"] = prefix + scope["path"]
        allowed = self.dash.settings.allowed_hosts
        if allowed is not None and not host_allowed(request_host(scope), allowed):
            # A page of another site whose name now resolves to this address (DNS rebinding)
            # would otherwise read and act as a local browser may: answer before any hook.
            refusal = PlainTextResponse("this dashboard does not answer to that host name", 400)
            await refusal(scope, receive, _with_headers(send))
            return
        try:
            access = await self._decide(scope)
        except HTTPException as exc:
            denied: Response | None = PlainTextResponse(
                str(exc.detail), status_code=exc.status_code, headers=exc.headers
            )
        else:
            scope = dict(scope, **{ACCESS_KEY: access})
            denied = self._refusal(scope["method"], access)
        if denied is not None:
            await denied(scope, receive, _with_headers(send))
            return
        await self.app(scope, receive, _with_headers(send))

    async def _decide(self, scope: Scope) -> Access:
        if self.dash.auth is not None and not await _resolve(self.dash.auth(scope)):
            return DENY
        access = READ_WRITE
        if self.dash.permissions is not None:
            access = await _resolve(self.dash.permissions(Viewer.from_scope(scope)))
            if not isinstance(access, Access):
                raise TypeError(
                    f"the permissions hook must return asynq.web.Access, not {access!r}"
                )
        if self.dash.settings.read_only and access.write:
            access = READ
        return access

    def _refusal(self, method: str, access: Access) -> Response | None:
        if not access.read:
            return PlainTextResponse("forbidden", status_code=403)
        if method in SAFE_METHODS or access.write:
            return None
        if self.dash.settings.read_only:
            return PlainTextResponse(
                "the dashboard is read-only", status_code=405, headers={"allow": "GET, HEAD"}
            )
        return PlainTextResponse(
            "forbidden: you may view the dashboard but not change it", status_code=403
        )


async def _resolve(value: _T | Awaitable[_T]) -> _T:
    if inspect.isawaitable(value):
        return await value
    return value


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {k.lower() for k, _ in headers}
            for key, value in (
                (b"content-security-policy", _CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"same-origin"),
                # frame-ancestors says the same to every current browser; this is for the
                # older ones that ignore CSP (clickjacking the action buttons).
                (b"x-frame-options", b"SAMEORIGIN"),
            ):
                if key not in names:
                    headers.append((key, value))
            message = dict(message, headers=headers)
        await send(message)

    return wrapped


def _host_names(names: Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    listed = [names] if isinstance(names, str) else list(names)
    if not listed or not all(isinstance(n, str) and n.strip() for n in listed):
        raise ValidationError(f"allowed_hosts must be non-empty host names, not {names!r}")
    return frozenset(n.strip().lower() for n in listed)


def static_path(name: str = "") -> str:
    """Path of the shipped static directory, or of one file in it."""
    return str(resources.files("asynq.web") / "static" / name)


def create_app(
    inspector_or_redis: AsyncInspector | AsyncRedisLike | None = None,
    *,
    root_path: str = "",
    read_only: bool = False,
    auth: AuthHook | None = None,
    permissions: PermissionHook | None = None,
    csrf_secret: bytes | str | None = None,
    refresh_interval: float = 5.0,
    page_size: int = 20,
    max_payload_length: int = 200,
    title: str = "asynq",
    allowed_hosts: Iterable[str] | None = None,
) -> Starlette:
    """Build the dashboard as a plain ASGI application.

    Mount it anywhere: ``uvicorn``, ``Starlette``/``FastAPI`` ``mount()``, or a WSGI host through
    :func:`~asynq.web.create_wsgi_app`. Everything it needs lives on the returned app
    (``app.state.asynq`` is its :class:`Dashboard`).

    Args:
        inspector_or_redis: An :class:`~asynq.inspector.AsyncInspector` (kept open: the caller
            owns it), or a Redis URL / ``RedisConnection`` / ``redis.asyncio`` client from which
            the dashboard opens its own inspector. ``None`` uses ``$ASYNQ_REDIS_URL``.
        root_path: URL prefix when a proxy strips it before forwarding (a mounting framework or
            ``uvicorn --root-path`` sets it by itself).
        read_only: Nobody may write: every request but GET/HEAD/OPTIONS answers 405 and the
            pages hide the actions (whatever ``permissions`` says).
        auth: ``auth(scope) -> bool`` or an awaitable of it, called with the ASGI scope of every
            request; ``False`` answers 403, and a raised ``starlette.exceptions.HTTPException``
            answers with its status and headers (e.g. 401 with ``WWW-Authenticate``).
        permissions: ``permissions(viewer) -> Access`` or an awaitable of it, called for every
            request that passed ``auth`` with a :class:`~asynq.web.Viewer` (the user
            the host put under ``scope["asynq.user"]``, method, path, headers). No ``read``
            answers 403; without ``write`` the pages hide the actions and mutations answer 403.
            A raised ``HTTPException`` answers as for ``auth``. ``None``: everyone may do
            everything ``auth`` and ``read_only`` allow.
        csrf_secret: Key for CSRF tokens; random per app when omitted. Give the same value to
            every process serving the dashboard behind one address.
        refresh_interval: Seconds between automatic page refreshes (0 turns them off; users
            can change it in the page).
        page_size: Default number of tasks per page.
        max_payload_length: Characters of payload shown in task tables.
        title: Shown in the header and the page titles.
        allowed_hosts: Host names the dashboard answers to (the ``Host`` header, port
            ignored): exact names, ``.example.com`` for a domain and its subdomains, ``*`` for
            any. Others answer 400, which stops DNS rebinding (another site's page reaching a
            dashboard on localhost through a name of its own). ``None``: any host; the host
            framework usually checks it (Django's ``ALLOWED_HOSTS``).

    Raises:
        ValidationError: ``allowed_hosts`` holds something other than non-empty names.

    Returns:
        A Starlette application (any ASGI server can run it).
    """
    from asynq.web._api import Api
    from asynq.web._pages import Pages

    settings = Settings(
        root_path=root_path.rstrip("/"),
        read_only=read_only,
        refresh_interval=refresh_interval,
        page_size=page_size,
        max_payload_length=max_payload_length,
        title=title,
        allowed_hosts=_host_names(allowed_hosts),
    )
    dash = Dashboard(
        inspector_or_redis, settings, auth=auth, permissions=permissions, csrf_secret=csrf_secret
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await dash.aclose()

    async def on_asynq_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AsynqError)
        return dash.error_response(request, status_of(exc), str(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        resp = dash.error_response(request, exc.status_code, str(exc.detail))
        resp.headers.update(exc.headers or {})
        return resp

    routes: list[BaseRoute] = [
        *Pages(dash).routes(),
        *Api(dash).routes(),
        Mount("/static", app=StaticFiles(directory=static_path()), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, dashboard=dash)],
        exception_handlers={AsynqError: on_asynq_error, HTTPException: on_http_error},
        lifespan=lifespan,
    )
    app.state.asynq = dash
    return app
