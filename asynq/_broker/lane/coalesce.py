"""Coalescing: calls issued concurrently on one client go out together, as one pipelined write.

A web app enqueues from many requests at once through one client. Sent one by one, each call
costs a round trip and a system call on each side; sent together, a whole batch costs one. The
design is the classic leader/follower one, with no timer and no background task:

- A call that finds nobody sending becomes the **leader** and sends at once, alone: a lone
  caller never waits for company, so a sequential loop keeps its latency.
- A call that arrives while a leader is busy queues its request and waits (a **follower**).
- When the leader has its replies it hands the lead to the first queued follower, which sends
  everything queued by then in one write and reads the replies in one go, and so on.

Each request keeps its own replies: an error reply is that call's alone (the others of the
batch are unaffected), and requests go out in the order they were queued, so one caller's calls
stay in its own order. If the exchange itself fails (the connection dropped, a timeout), every
request of that batch gets the error, as each of them would have alone.

Only small exchanges (single calls, short pipelines) are coalesced; large ones (``enqueue_many``)
take their own connection, so they never hold up a batch behind them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import redis.exceptions

#: Sends ``parts`` in one write and returns all ``count`` replies, errors as values; the
#: callable is the leader's own work to do once they are sent.
SyncExchange = Callable[[Sequence[bytes], int, Callable[[], None]], list[Any]]
AsyncExchange = Callable[[Sequence[bytes], int, Callable[[], None]], Awaitable[list[Any]]]

#: A follower's future resolves to this when it is handed the lead.
_LEAD: Final = object()


def _nothing() -> None:
    pass


def _interrupted() -> redis.exceptions.ConnectionError:
    """What the followers of a batch get when its leader was interrupted mid-exchange (whether
    Redis ran their calls is unknown, as after a dropped connection)."""
    return redis.exceptions.ConnectionError("the batch carrying this call was interrupted")


def _split(batch: Sequence[Any], replies: list[Any]) -> None:
    """Give each request of ``batch`` its share of ``replies``, in order."""
    start = 0
    for request in batch:
        end = start + request.count
        request.replies = replies[start:end]
        start = end


class _SyncRequest:
    __slots__ = ("count", "error", "lead", "payload", "replies", "wake")

    def __init__(self, payload: bytes, count: int) -> None:
        self.payload = payload
        self.count = count
        self.replies: list[Any] = []
        self.error: BaseException | None = None
        self.lead = False
        self.wake = threading.Lock()  # held until the request is answered or handed the lead
        self.wake.acquire()


class SyncCoalescer:
    """Coalesces the calls of threads sharing one blocking client (see the module docstring).

    A forked child starts with no leader and an empty queue: the threads that were leading or
    waiting in the parent do not exist in the child.
    """

    def __init__(self, exchange: SyncExchange) -> None:
        self._exchange = exchange
        self._reset()
        _SYNC_COALESCERS.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._leading = False
        self._queue: list[_SyncRequest] = []

    @property
    def waiting(self) -> int:
        """How many requests are queued behind the leader right now."""
        return len(self._queue)

    def submit(self, payload: bytes, count: int, first: Callable[[], None]) -> list[Any]:
        """Send ``payload`` (``count`` calls) alone or in a batch; return its ``count`` replies.
        ``first`` runs once the payload is sent if this call leads, else not at all."""
        with self._lock:
            if not self._leading:
                self._leading = True
                request = None
            else:
                request = _SyncRequest(payload, count)
                self._queue.append(request)
        if request is None:
            try:
                return self._exchange((payload,), count, first)
            finally:
                self._pass_on()
        request.wake.acquire()
        if request.lead:
            self._lead(request)
        if request.error is not None:
            raise request.error
        return request.replies

    def _lead(self, me: _SyncRequest) -> None:
        with self._lock:
            batch, self._queue = self._queue, []  # ``me`` first
        try:
            payload = b"".join([r.payload for r in batch])
            _split(batch, self._exchange((payload,), sum(r.count for r in batch), _nothing))
        except Exception as exc:
            for request in batch:
                request.error = exc
        except BaseException:
            for request in batch:
                if request is not me:
                    request.error = _interrupted()
            raise
        finally:
            self._pass_on()
            for request in batch:
                if request is not me:
                    request.wake.release()

    def _pass_on(self) -> None:
        """Hand the lead to the first queued request, or put it down."""
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.wake.release()
            else:
                self._leading = False


_SYNC_COALESCERS: weakref.WeakSet[SyncCoalescer] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for coalescer in list(_SYNC_COALESCERS):
        coalescer._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class _AsyncRequest:
    __slots__ = ("count", "future", "payload", "replies")

    def __init__(self, payload: bytes, count: int, future: asyncio.Future[Any]) -> None:
        self.payload = payload
        self.count = count
        self.future = future
        self.replies: list[Any] = []


class AsyncCoalescer:
    """Coalesces the calls of the tasks of one event loop sharing one asyncio client."""

    def __init__(self, exchange: AsyncExchange) -> None:
        self._exchange = exchange
        self._leading = False
        self._queue: list[_AsyncRequest] = []

    async def submit(self, payload: bytes, count: int, first: Callable[[], None]) -> list[Any]:
        """The asyncio twin of :meth:`SyncCoalescer.submit`."""
        if not self._leading:
            self._leading = True
            try:
                return await self._exchange((payload,), count, first)
            finally:
                self._pass_on()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        request = _AsyncRequest(payload, count, future)
        self._queue.append(request)
        try:
            outcome = await future
        except asyncio.CancelledError:
            # Not sent yet: the batch skips a done future. Handed the lead just now: pass it on.
            if future.done() and not future.cancelled() and future.result() is _LEAD:
                self._pass_on()
            raise
        if outcome is _LEAD:
            return await self._lead(request)
        replies: list[Any] = outcome
        return replies

    async def _lead(self, me: _AsyncRequest) -> list[Any]:
        batch = [me, *(r for r in self._queue if not r.future.done())]
        self._queue.clear()
        try:
            payload = b"".join([r.payload for r in batch])
            replies = await self._exchange((payload,), sum(r.count for r in batch), _nothing)
        except BaseException as exc:
            shared = exc if isinstance(exc, Exception) else _interrupted()
            for request in batch[1:]:
                if not request.future.done():
                    request.future.set_exception(shared)
            raise
        else:
            _split(batch, replies)
            for request in batch[1:]:
                if not request.future.done():
                    request.future.set_result(request.replies)
            return me.replies
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        """Hand the lead to the first queued request still waiting, or put it down."""
        queue = self._queue
        while queue:
            successor = queue.pop(0)
            if not successor.future.done():
                successor.future.set_result(_LEAD)
                return
        self._leading = False
