"""The dashboard as a Flask blueprint: :func:`dashboard_blueprint`.

The blueprint forwards every request under its ``url_prefix`` to the dashboard's WSGI form
(:func:`asynq.web.create_wsgi_app`, built once per app on first use, on the app's Redis), with

- ``SCRIPT_NAME`` extended by the prefix, so every link, form action and cookie path of the
  dashboard carries the blueprint's ``url_prefix`` (and the app's own mount point);
- the request's user under ``environ["asynq.user"]`` (:data:`asynq.web.USER_KEY`): by default
  Flask-Login's ``current_user`` when the app has a ``LoginManager``, for the ``permissions``
  hook to judge;
- the dashboard's own CSRF check on every mutation (Flask-WTF's ``CSRFProtect``, when the app
  has one, is told to leave the blueprint alone: the dashboard checks its own token).

Needs the ``web`` extra (``pip install 'asynq-python[web]'``).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import threading
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, request
from flask.sansio.app import App
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from asynq_flask.extension import EXTENSION_KEY, AsynqState

__all__ = ["debug_only", "dashboard_blueprint", "login_user"]

#: Every method the dashboard answers (its API uses POST, PUT, PATCH and DELETE).
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
#: A blueprint rule catching the rest of the path after the prefix.
_REST = "/<path:rest>"


def login_user() -> Any:
    """The default user hand-over: Flask-Login's ``current_user`` (the user object itself, not
    the proxy) when the app has a ``LoginManager``, else ``None``."""
    if getattr(current_app, "login_manager", None) is None:
        return None
    from flask_login import current_user

    return current_user._get_current_object()


def debug_only(app: Flask) -> Any:
    """The default ``permissions`` hook for ``app``: everything while the app runs in debug
    mode, nothing otherwise (a dashboard can delete every task: production needs a hook)."""
    from asynq.web import DENY, READ_WRITE

    granted = READ_WRITE if app.debug else DENY
    return lambda viewer: granted


def dashboard_blueprint(
    *,
    permissions: Callable[..., Any] | None = None,
    user: Callable[[], Any] = login_user,
    name: str = "asynq_dashboard",
    **options: Any,
) -> Blueprint:
    """A blueprint serving the asynq dashboard; register it under the prefix of your choice::

        from asynq.web import DENY, READ, READ_WRITE

        def permissions(viewer):                       # viewer.user: Flask-Login's current_user
            if not viewer.user.is_authenticated:
                return DENY
            return READ_WRITE if viewer.user.is_admin else READ

        app.register_blueprint(dashboard_blueprint(permissions=permissions), url_prefix="/asynq")

    Register it after ``Asynq(app)`` / ``asynq.init_app(app)``: the dashboard reads the app's
    Redis from the extension.

    Args:
        permissions: ``permissions(viewer) -> asynq.web.Access`` for every request (see
            :data:`asynq.web.PermissionHook`); raising ``asynq.web.HTTPException`` answers with
            its status and headers (a 303 to the login page, say). It runs on the dashboard's
            own thread, outside the Flask request: read the user from ``viewer.user``. Default
            :func:`debug_only`.
        user: Called in the Flask request to find the user handed to ``permissions``
            (default :func:`login_user`).
        name: The blueprint's name (register two under different names to serve two
            dashboards).
        options: Passed on to :func:`asynq.web.create_app`: ``read_only``,
            ``refresh_interval``, ``page_size``, ``max_payload_length``, ``title``, ``auth``.
            The CSRF secret is derived from the app's ``SECRET_KEY`` when it has one, so every
            process of the app accepts the others' tokens.

    Raises:
        asynq.MissingDependencyError: the ``web`` extra is not installed.
    """
    from asynq.web import USER_KEY  # fails at once, with the install hint, without the extra

    blueprint = Blueprint(name, __name__)
    dashboards: weakref.WeakKeyDictionary[Flask, Any] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def dashboard_of(app: Flask) -> Any:
        with lock:
            found = dashboards.get(app)
            if found is None:
                found = dashboards[app] = _build(app, permissions, options)
            return found

    def forward(rest: str = "") -> Response:
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        environ = dict(request.environ)
        path = environ.get("PATH_INFO", "")
        prefix = path[: len(path) - len(_encoded(rest))] if rest else path
        prefix = prefix.rstrip("/")
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + prefix
        environ["PATH_INFO"] = path[len(prefix) :] or "/"
        environ[USER_KEY] = user()
        # The body once more: the app's before_request (a CSRF extension, a logger) may have
        # read the form already, and a WSGI input stream is read only once.
        body = request.get_data(cache=True)
        if not body and request.form:  # parsed already: the stream is spent, the fields are not
            body = urlencode(list(request.form.items(multi=True))).encode()
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return Response.from_app(dashboard_of(app), environ, buffered=True)

    blueprint.add_url_rule("/", "index", forward, methods=_METHODS)
    blueprint.add_url_rule(_REST, "rest", forward, methods=_METHODS)
    blueprint.record(_check_and_exempt)
    return blueprint


def _encoded(rest: str) -> str:
    # PATH_INFO is the raw path as latin-1 text; the rule's ``rest`` is decoded UTF-8.
    return rest.encode("utf-8").decode("latin-1")


def _build(app: Flask, permissions: Callable[..., Any] | None, options: dict[str, Any]) -> Any:
    from asynq.web import create_wsgi_app

    state = _state_of(app)
    settings = dict(options)
    if "csrf_secret" not in settings and app.secret_key:
        key = app.secret_key if isinstance(app.secret_key, bytes) else str(app.secret_key).encode()
        settings["csrf_secret"] = hmac.new(key, b"asynq dashboard csrf", hashlib.sha256).digest()
    return create_wsgi_app(
        state.settings.redis_url,
        permissions=permissions if permissions is not None else debug_only(app),
        **settings,
    )


def _state_of(app: App) -> AsynqState:
    state = app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, AsynqState):
        raise RuntimeError(
            f"The Flask app {app.name!r} serves the asynq dashboard but has no asynq extension; "
            "call Asynq(app) or asynq.init_app(app) before registering the blueprint."
        )
    return state


def _check_and_exempt(setup: BlueprintSetupState) -> None:
    """At registration: the app has the extension; Flask-WTF (if any) skips the blueprint."""
    _state_of(setup.app)
    csrf = setup.app.extensions.get("csrf")
    exempt = getattr(csrf, "exempt", None)
    if callable(exempt):
        exempt(setup.blueprint)
