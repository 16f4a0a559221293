"""The project's Redis clients, built from the ``ASYNQ`` setting on first use (no I/O before).

asynq's process-wide default clients and inspectors (:func:`asynq.get_client`,
:func:`asynq.get_async_client`, :func:`asynq.get_inspector`, :func:`asynq.get_async_inspector`;
the clients are what ``@asynq.task`` functions enqueue with) are pointed at ``ASYNQ``'s Redis, so
a task function's ``.enqueue()`` in a view goes where the worker listens. A ``TASKS`` alias whose
``OPTIONS`` name another Redis gets a blocking client and inspector of its own; its asyncio
clients and inspectors live for one ``async with`` block, as nothing here knows when an event
loop ends.
Everything is rebuilt when ``ASYNQ`` or ``TASKS`` changes (``override_settings``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import asynq
from asynq import AsyncClient, AsyncInspector, Client, Inspector
from asynq_django.conf import AsynqSettings, SettingsError, get_settings

_lock = threading.Lock()
#: Where asynq's default clients point (the ``_where`` of ASYNQ), once configured.
_configured: list[str] = []
_sync: dict[tuple[str, str], Any] = {}


def _where(settings: AsynqSettings) -> str:
    # Clients are shared by everything that reaches the same Redis the same way.
    return repr((settings.redis_url, settings.cluster, sorted(settings.redis_options.items())))


def configure_defaults() -> None:
    """Point asynq's default clients at ``ASYNQ``'s Redis (once; again after a change).

    An invalid ``ASYNQ`` leaves them alone: the system checks report it.
    """
    try:
        settings = get_settings()
    except SettingsError:
        return
    where = _where(settings)
    with _lock:
        if _configured == [where]:
            return
        asynq.configure(redis=settings.connection())
        _configured[:] = [where]


def _uses_defaults(settings: AsynqSettings | None) -> bool:
    if settings is None:
        configure_defaults()
        return True
    configure_defaults()
    return _configured == [_where(settings)]


def _shared(kind: type[Any], settings: AsynqSettings | None) -> Any:
    settings = settings or get_settings()
    key = (kind.__name__, _where(settings))
    with _lock:
        found = _sync.get(key)
        if found is None:
            found = _sync[key] = kind(settings.connection())
        return found


def get_client(settings: AsynqSettings | None = None) -> Client:
    """The blocking client for ``settings`` (default: ``ASYNQ``, i.e. asynq's default)."""
    if _uses_defaults(settings):
        return asynq.get_client()
    client: Client = _shared(Client, settings)
    return client


@contextlib.asynccontextmanager
async def async_client(settings: AsynqSettings | None = None) -> AsyncIterator[AsyncClient]:
    """An asyncio client for ``settings`` on the running loop: asynq's default one of the loop
    for ``ASYNQ``'s Redis, else one opened for the block and closed after it."""
    if _uses_defaults(settings):
        yield asynq.get_async_client()
        return
    assert settings is not None
    async with AsyncClient(settings.connection()) as client:
        yield client


def get_inspector(settings: AsynqSettings | None = None) -> Inspector:
    """The blocking inspector for ``settings`` (default: ``ASYNQ``, i.e. asynq's default)."""
    if _uses_defaults(settings):
        return asynq.get_inspector()
    inspector: Inspector = _shared(Inspector, settings)
    return inspector


@contextlib.asynccontextmanager
async def async_inspector(settings: AsynqSettings | None = None) -> AsyncIterator[AsyncInspector]:
    """An asyncio inspector for ``settings`` on the running loop: asynq's default one of the
    loop for ``ASYNQ``'s Redis, else one opened for the block and closed after it."""
    if _uses_defaults(settings):
        yield asynq.get_async_inspector()
        return
    assert settings is not None
    async with AsyncInspector(settings.connection()) as inspector:
        yield inspector


def reset() -> None:
    """Forget every client (the settings changed); blocking ones are closed."""
    with _lock:
        old = list(_sync.values())
        _sync.clear()
        _configured.clear()
    for client in old:
        client.close()
    configure_defaults()
