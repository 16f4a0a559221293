"""Serve the dashboard from a WSGI host (Flask, Django, gunicorn sync workers).

:class:`AsgiToWsgi` runs the ASGI app on one private event loop in a daemon thread and hands
each WSGI request to it. One loop for the app's whole life matters: the dashboard's
``redis.asyncio`` connections belong to the loop that opened them.

The request body is read in full (the dashboard's bodies are small forms), and so is the
response, which suits the dashboard's short pages and JSON; the one streaming endpoint, a
task's live progress, sees :data:`BUFFERED_KEY` and answers the current state at once (the
browser's ``EventSource`` asks again), rather than hold a WSGI worker until the task ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message

from asynq.web._access import USER_KEY

StartResponse = Callable[..., Any]
WSGIEnviron = dict[str, Any]

#: Largest request body accepted (bytes); bigger requests get 413.
MAX_BODY = 1_000_000
#: Set in the scope of every request through this bridge: the response reaches the client only
#: once it is complete, so endpoints that would stream must end promptly instead.
BUFFERED_KEY = "asynq.buffered_response"


def _latin1_to_str(value: str) -> str:
    # WSGI carries raw bytes as latin-1 strings; ASGI paths are UTF-8 text.
    return value.encode("latin-1").decode("utf-8", "replace")


def scope_from_environ(environ: WSGIEnviron) -> dict[str, Any]:
    """The ASGI HTTP scope of a WSGI request (``SCRIPT_NAME`` becomes ``root_path``).

    The host's user, ``environ["asynq.user"]`` (:data:`~asynq.web.USER_KEY`), is
    carried over to the scope under the same key for the dashboard's ``permissions`` hook.
    """
    script = _latin1_to_str(environ.get("SCRIPT_NAME", "")).rstrip("/")
    path_info = _latin1_to_str(environ.get("PATH_INFO", "")) or "/"
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        if value:
            headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
    server_port = environ.get("SERVER_PORT") or "80"
    client = (environ.get("REMOTE_ADDR") or "", int(environ.get("REMOTE_PORT") or 0))
    full = script + path_info
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")).split("/")[-1],
        "method": str(environ.get("REQUEST_METHOD", "GET")).upper(),
        "scheme": str(environ.get("wsgi.url_scheme", "http")),
        "path": full,
        "raw_path": quote(full).encode("ascii"),
        "root_path": script,
        "query_string": str(environ.get("QUERY_STRING", "")).encode("latin-1"),
        "headers": headers,
        "client": client,
        "server": (str(environ.get("SERVER_NAME", "localhost")), int(server_port)),
        "extensions": {},
        "state": {},
    }
    if USER_KEY in environ:
        scope[USER_KEY] = environ[USER_KEY]
    scope[BUFFERED_KEY] = True
    return scope


class AsgiToWsgi:
    """A WSGI callable running ``app`` (ASGI) on a private event loop.

    Args:
        app: The ASGI application.
        shutdown: Awaited on the loop by :meth:`close` (e.g. to close Redis connections).
    """

    def __init__(self, app: ASGIApp, shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
        self.app = app
        self._shutdown = shutdown
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="asynq-dashboard-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            start_response("413 Request Entity Too Large", [("content-type", "text/plain")])
            return [b"request body too large"]
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        scope = scope_from_environ(environ)
        future = asyncio.run_coroutine_threadsafe(self._run(scope, body), self._ensure_loop())
        status, headers, chunks = future.result()
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        start_response(
            f"{status} {reason}".strip(),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
        )
        return chunks

    async def _run(
        self, scope: dict[str, Any], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
        sent_body = False
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        complete = asyncio.Event()

        async def receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            # The client goes away once the whole response is sent, not before: a streamed
            # response (a static file) listens for the disconnect and stops sending on it.
            await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    complete.set()

        await self.app(scope, receive, send)
        return status, headers, chunks

    def close(self) -> None:
        """Stop the private event loop (the app's Redis connections are dropped with it)."""
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is not None:
                if self._shutdown is not None:
                    done = asyncio.run_coroutine_threadsafe(_call(self._shutdown), loop)
                    done.result(timeout=5)
                loop.call_soon_threadsafe(loop.stop)
                if self._thread is not None:
                    self._thread.join(timeout=5)
                loop.close()


async def _call(fn: Callable[[], Awaitable[None]]) -> None:
    await fn()
