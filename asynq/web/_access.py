"""Who is asking, and what they may do: the dashboard's per-request permissions.

An embedding framework knows its user (Django's ``request.user``, Flask-Login's
``current_user``, the result of a FastAPI dependency); the dashboard does not. The embedding
layer hands the user over under one documented key, :data:`USER_KEY`:

- an ASGI host sets ``scope["asynq.user"]`` before calling the dashboard app;
- a WSGI host sets ``environ["asynq.user"]`` before calling the WSGI form, which copies it into
  the ASGI scope.

For every request the dashboard builds a :class:`Viewer` (that user plus the request's method,
path and headers) and asks the ``permissions`` hook for an :class:`Access`: ``read`` lets the
request in at all, ``write`` allows mutations (every method but GET/HEAD/OPTIONS). A viewer who
may read but not write sees the pages without action buttons, and a mutation answers 403 even
with a valid CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Where the embedding layer puts its user: a key of the ASGI scope or of the WSGI environ.
USER_KEY = "asynq.user"
#: Where :class:`~asynq.web._app.Guard` leaves the request's :class:`Access` in the ASGI scope.
ACCESS_KEY = "asynq.access"
#: Methods that never change anything; every other method is a mutation and needs ``write``.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Access:
    """What one request may do: ``read`` the dashboard, ``write`` (act on queues and tasks)."""

    read: bool
    write: bool

    def __post_init__(self) -> None:
        if self.write and not self.read:
            # Mutating forms live on pages the viewer could not load; refuse the combination
            # rather than guess which of the two flags was meant.
            from asynq.errors import ValidationError

            raise ValidationError("Access(write=True) needs read=True as well")


#: Nothing: every request answers 403.
DENY = Access(read=False, write=False)
#: Look, don't touch: pages without action buttons, mutations answer 403.
READ = Access(read=True, write=False)
#: Everything.
READ_WRITE = Access(read=True, write=True)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The one asking, as the ``permissions`` hook sees them.

    Attributes:
        user: The embedding framework's user object, taken from :data:`USER_KEY` of the ASGI
            scope (or WSGI environ); ``None`` when the host passed none.
        method: The HTTP method, upper-case.
        path: The path inside the dashboard, without its mount prefix (``/``,
            ``/api/queues/default:pause``, ``/metrics``...).
        headers: The request headers, names in lower case.
        scope: The whole ASGI scope, for anything else (client address, scheme, ...).
    """

    user: Any
    method: str
    path: str
    headers: Mapping[str, str]
    scope: Mapping[str, Any]

    @property
    def wants_write(self) -> bool:
        """Whether this request is a mutation (needs :attr:`Access.write`)."""
        return self.method not in SAFE_METHODS

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> Viewer:
        """The viewer of an ASGI HTTP scope."""
        return cls(
            user=scope.get(USER_KEY),
            method=str(scope.get("method", "GET")).upper(),
            path=route_path(scope),
            headers=scope_headers(scope),
            scope=scope,
        )


#: ``permissions(viewer) -> Access`` (or an awaitable of it). Raising
#: ``starlette.exceptions.HTTPException`` answers with its status and headers instead (e.g. 401
#: with ``WWW-Authenticate``, or 303 with ``Location`` to a login page).
PermissionHook = Callable[[Viewer], "Access | Awaitable[Access]"]


def scope_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    """The headers of an ASGI scope as a ``{lower-case name: value}`` dict."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def route_path(scope: Mapping[str, Any]) -> str:
    """The request path inside the dashboard (``path`` without the ``root_path`` prefix)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def request_host(scope: Mapping[str, Any]) -> str:
    """The host name the client asked for (``Host`` header, lower case, without the port;
    an IPv6 address without its brackets); ``""`` when the request names none."""
    host = scope_headers(scope).get("host", "").strip().lower()
    if host.startswith("["):  # [::1]:8080
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether ``host`` is one of ``allowed``: exact names, ``.example.com`` for the domain and
    its subdomains, ``*`` for any."""
    if "*" in allowed or host in allowed:
        return True
    domains = (name for name in allowed if name.startswith("."))
    return any(host.endswith(domain) or host == domain[1:] for domain in domains)


def access_of(scope: Mapping[str, Any]) -> Access:
    """The :class:`Access` the guard decided for this request (everything when unguarded)."""
    access = scope.get(ACCESS_KEY)
    return access if isinstance(access, Access) else READ_WRITE
