"""The project's Redis clients, built from the ``ASYNQ`` setting on first use.

A blocking :class:`asynq.Client` / :class:`asynq.Inspector` is shared by every thread (redis-py
pools its connections). asyncio clients are bound to the event loop that created their
connections, so there is one per running loop. All are dropped when ``ASYNQ`` or ``TASKS``
changes (``override_settings``) and rebuilt from the new value.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from asynq import AsyncClient, AsyncInspector, Client, Inspector
from asynq_django.conf import AsynqSettings, get_settings

_lock = threading.Lock()
_sync: dict[tuple[str, str], Any] = {}
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, Any]] = (
    weakref.WeakKeyDictionary()
)


def _where(settings: AsynqSettings) -> str:
    # Clients are shared by everything that reaches the same Redis the same way.
    return repr((settings.redis_url, settings.cluster, sorted(settings.redis_options.items())))


def _shared(kind: type[Any], settings: AsynqSettings | None) -> Any:
    settings = settings or get_settings()
    key = (kind.__name__, _where(settings))
    with _lock:
        found = _sync.get(key)
        if found is None:
            found = _sync[key] = kind(settings.connection())
        return found


def _per_loop(kind: type[Any], settings: AsynqSettings | None) -> Any:
    settings = settings or get_settings()
    mine = _by_loop.setdefault(asyncio.get_running_loop(), {})
    key = (kind.__name__, _where(settings))
    found = mine.get(key)
    if found is None:
        found = mine[key] = kind(settings.connection())
    return found


def get_client(settings: AsynqSettings | None = None) -> Client:
    """The shared blocking client (for ``settings``, default: the ``ASYNQ`` setting)."""
    client: Client = _shared(Client, settings)
    return client


def get_inspector(settings: AsynqSettings | None = None) -> Inspector:
    """The shared blocking inspector."""
    inspector: Inspector = _shared(Inspector, settings)
    return inspector


def get_async_client(settings: AsynqSettings | None = None) -> AsyncClient:
    """The asyncio client of the running event loop."""
    client: AsyncClient = _per_loop(AsyncClient, settings)
    return client


def get_async_inspector(settings: AsynqSettings | None = None) -> AsyncInspector:
    """The asyncio inspector of the running event loop."""
    inspector: AsyncInspector = _per_loop(AsyncInspector, settings)
    return inspector


def reset() -> None:
    """Forget every client; blocking ones are closed, asyncio ones are left to their loop."""
    with _lock:
        old = list(_sync.values())
        _sync.clear()
        _by_loop.clear()
    for client in old:
        client.close()
