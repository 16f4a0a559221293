"""The process-wide default clients: :func:`get_client`, :func:`get_async_client`,
:func:`configure`, :func:`use_client` and :func:`use_loop_client`; and the default
inspectors, :func:`get_inspector` and :func:`get_async_inspector`, made and shared the same way.

Code that enqueues from many places (views, task functions, framework adapters) should not each
open its own connection pool. These functions hand out one :class:`~asynq.Client` per process
and one :class:`~asynq.AsyncClient` per event loop, made lazily from :func:`configure` or
``$ASYNQ_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``).

- **Threads** share the one ``Client`` (redis-py pools its connections); its creation is
  guarded by a lock, so racing first calls still make one.
- **Forks** (``os.fork``, ``multiprocessing`` with "fork", pre-forking servers such as gunicorn):
  the child makes its own clients on first use and never touches the parent's sockets. Both an
  at-fork hook and a process id check see to it (the hook also replaces the locks, which another
  thread may have held at the moment of the fork).
- **Event loops**: an asyncio connection only works on the loop that opened it, so each running
  loop gets its own ``AsyncClient``, closed when the loop shuts down (see
  :mod:`asynq._base.loop_local`). A fresh loop per call (``asyncio.run`` in a loop,
  ``asgiref.sync.async_to_sync``) therefore works, at the price of a new connection per loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis as redis_py
from redis.cluster import RedisCluster

from asynq._base.loop_local import PerLoop
from asynq.client import AsyncClient, Client
from asynq.connection import RedisConnection, RedisLike
from asynq.errors import ValidationError
from asynq.inspector import AsyncInspector, Inspector

#: A default object made from the configured Redis: a Client or an Inspector (blocking) ...
_Sync = TypeVar("_Sync", Client, Inspector)
#: ... or an AsyncClient or an AsyncInspector (one per event loop).
_Async = TypeVar("_Async", AsyncClient, AsyncInspector)


class _Defaults:
    """What :func:`configure` set, and the clients and inspectors made from it in this process."""

    def __init__(self, redis: RedisLike | None) -> None:
        self.redis = redis
        self.pid = os.getpid()
        self.lock = threading.Lock()
        #: The blocking objects made so far, by class (one each per process).
        self.made: dict[type[Client | Inspector], Client | Inspector] = {}
        self.async_clients: PerLoop[AsyncClient] = PerLoop(
            lambda: self._new_async(AsyncClient), _aclose
        )
        self.async_inspectors: PerLoop[AsyncInspector] = PerLoop(
            lambda: self._new_async(AsyncInspector), _aclose
        )

    def sync(self, kind: type[_Sync]) -> _Sync:
        """The one ``kind`` (Client or Inspector) of this process, made on first use."""
        made = self.made.get(kind)
        if made is None:
            with self.lock:
                made = self.made.get(kind)
                if made is None:
                    made = self.made[kind] = kind(self.redis)
        assert isinstance(made, kind)
        return made

    def _new_async(self, kind: type[_Async]) -> _Async:
        if isinstance(self.redis, redis_py.Redis | RedisCluster):
            raise ValidationError(
                "asynq.configure(redis=...) was given a blocking redis client, which only the "
                "blocking default client and inspector can use; configure a Redis URL or a "
                f"RedisConnection to get an {kind.__name__} per event loop as well"
            )
        return kind(self.redis)

    def close(self) -> None:
        """Close what was made so far (async ones on their own loops, in the background)."""
        with self.lock:
            made = list(self.made.values())
            self.made.clear()
        for obj in made:
            obj.close()
        self.async_clients.clear()
        self.async_inspectors.clear()

    def forget_after_fork(self) -> None:
        """Drop the parent's objects without closing them: their sockets are the parent's."""
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.made = {}
        self.async_clients.forget_after_fork()
        self.async_inspectors.forget_after_fork()


async def _aclose(obj: AsyncClient | AsyncInspector) -> None:
    await obj.close()


_defaults = _Defaults(None)
#: Clients set by :func:`use_client` for the current context: (sync, async), either may be None.
_override: contextvars.ContextVar[tuple[Client | None, AsyncClient | None]] = (
    contextvars.ContextVar("asynq_default_client_override", default=(None, None))
)


#: Clients set by :func:`use_loop_client`, by event loop: a stack, innermost last.
_loop_clients: dict[asyncio.AbstractEventLoop, list[AsyncClient]] = {}


def _current() -> _Defaults:
    defaults = _defaults
    if defaults.pid != os.getpid():  # forked without the at-fork hook (fork() called from C)
        defaults.forget_after_fork()
    return defaults


def get_client() -> Client:
    """The default blocking :class:`~asynq.Client` of this process.

    Made on first use from :func:`configure`'s ``redis`` or ``$ASYNQ_REDIS_URL`` (default
    ``redis://127.0.0.1:6379/0``), then shared by every thread. A forked child makes its own.
    Inside a :func:`use_client` block, the client given there.

    Do not close it: :func:`configure` does when it replaces it.
    """
    override = _override.get()[0]
    if override is not None:
        return override
    return _current().sync(Client)


def get_async_client() -> AsyncClient:
    """The default :class:`~asynq.AsyncClient` of the running event loop.

    Each event loop gets its own (asyncio connections cannot cross loops), made on first use
    from the same configuration as :func:`get_client` and closed when the loop shuts down
    (``asyncio.run``, ``asgiref.sync.async_to_sync`` and ASGI servers all shut their loops down
    that way). Inside a :func:`use_client` block given an ``async_client``, that client; else,
    while a :func:`use_loop_client` block is open on this loop, the client given there.

    Raises:
        RuntimeError: called outside a running event loop.
        ValidationError: :func:`configure` was given a blocking redis client only.
    """
    override = _override.get()[1]
    if override is not None:
        return override
    if _loop_clients:
        stack = _loop_clients.get(asyncio.get_running_loop())
        if stack:
            return stack[-1]
    return _current().async_clients.get()


def get_inspector() -> Inspector:
    """The default blocking :class:`~asynq.Inspector` of this process.

    Made on first use from the same configuration as :func:`get_client` (and replaced with it
    by :func:`configure`), shared by every thread; a forked child makes its own. Do not close
    it. :func:`use_client` does not change it.
    """
    return _current().sync(Inspector)


def get_async_inspector() -> AsyncInspector:
    """The default :class:`~asynq.AsyncInspector` of the running event loop.

    One per event loop, made on first use from the same configuration as :func:`get_client`
    and closed when the loop shuts down, as :func:`get_async_client`'s clients are.

    Raises:
        RuntimeError: called outside a running event loop.
        ValidationError: :func:`configure` was given a blocking redis client only.
    """
    return _current().async_inspectors.get()


def configured_redis() -> str | RedisConnection | None:
    """What :func:`configure` was given, when servers can connect with it too (a URL or a
    ``RedisConnection``; not a blocking redis client); ``None`` otherwise."""
    redis = _defaults.redis
    return redis if isinstance(redis, str | RedisConnection) else None


def configure(redis: RedisLike | None = None) -> None:
    """Set where the default clients and inspectors connect, replacing (and closing) those
    made so far.

    Args:
        redis: A Redis URL, a :class:`~asynq.RedisConnection`, or a blocking ``redis.Redis`` /
            ``RedisCluster`` that the caller keeps owning (then only :func:`get_client` can use
            it). ``None`` goes back to ``$ASYNQ_REDIS_URL`` or ``redis://127.0.0.1:6379/0``.

    Call it at start-up, before enqueueing: a call in flight on a replaced client may fail when
    that client is closed. A URL is checked here, so a malformed one fails at once. The same URL
    as the one configured already keeps the clients made so far, so that several parts of a
    program (several framework apps, say) can each point the defaults at their Redis.

    Raises:
        ValidationError: ``redis`` is not a URL, RedisConnection or blocking redis client, or
            the URL is malformed.
    """
    global _defaults
    if isinstance(redis, str):
        RedisConnection.from_url(redis)  # fail now rather than at the first enqueue
    elif not (redis is None or isinstance(redis, RedisConnection | redis_py.Redis | RedisCluster)):
        raise ValidationError(
            "configure(redis=...) takes a Redis URL, a RedisConnection or a redis.Redis, "
            f"not {type(redis).__name__}"
        )
    if isinstance(redis, str) and redis == _defaults.redis:
        return
    old, _defaults = _defaults, _Defaults(redis)
    if old.pid == os.getpid():
        old.close()


@contextmanager
def use_client(
    client: Client | None = None, *, async_client: AsyncClient | None = None
) -> Iterator[None]:
    """Make ``client`` / ``async_client`` the defaults inside the ``with`` block.

    An argument left ``None`` keeps that default as it is. The swap is held in a context
    variable: it applies to this thread and to the asyncio tasks and ``asyncio.to_thread``
    calls started inside the block (they copy the context), not to other threads or to tasks
    started before. Blocks nest, and the previous defaults come back on exit, even on error.
    The clients stay open: closing them is the caller's business.

    An ``AsyncClient`` works on one event loop only: give ``async_client`` for code that runs
    on the loop the client was first used on.

    Raises:
        ValidationError: ``client`` is not a Client, or ``async_client`` not an AsyncClient.
    """
    if client is not None and not isinstance(client, Client):
        raise ValidationError(f"use_client() expects an asynq.Client, not {client!r}")
    if async_client is not None and not isinstance(async_client, AsyncClient):
        raise ValidationError(
            f"use_client(async_client=...) expects an asynq.AsyncClient, not {async_client!r}"
        )
    sync_now, async_now = _override.get()
    token = _override.set(
        (
            sync_now if client is None else client,
            async_now if async_client is None else async_client,
        )
    )
    try:
        yield
    finally:
        _override.reset(token)


@contextmanager
def use_loop_client(async_client: AsyncClient) -> Iterator[None]:
    """Make ``async_client`` the default :class:`~asynq.AsyncClient` of the running event loop
    while the ``with`` block is open.

    Unlike :func:`use_client`, which follows the context of the code inside its block, this
    applies to every task on the loop, whenever and wherever it was started: what a server
    framework needs when one place (an ASGI lifespan) opens the client and the request tasks,
    started elsewhere, enqueue through it. A :func:`use_client` block still wins inside it.
    Blocks nest; the client stays open (closing it is the caller's business).

    Raises:
        RuntimeError: called outside a running event loop.
        ValidationError: ``async_client`` is not an AsyncClient.
    """
    if not isinstance(async_client, AsyncClient):
        raise ValidationError(
            f"use_loop_client() expects an asynq.AsyncClient, not {async_client!r}"
        )
    loop = asyncio.get_running_loop()
    stack = _loop_clients.setdefault(loop, [])
    stack.append(async_client)
    try:
        yield
    finally:
        stack.remove(async_client)
        if not stack and _loop_clients.get(loop) is stack:
            del _loop_clients[loop]


def _after_fork_in_child() -> None:
    _defaults.forget_after_fork()
    _loop_clients.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
