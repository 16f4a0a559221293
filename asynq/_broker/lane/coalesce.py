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

The lanes coalesce packed calls. :class:`AsyncCoalescer` does not care what a request is, and
:class:`~asynq.AsyncClient` also uses it one level up, on whole enqueues: the callers queue
their tasks uncomposed and the leader composes and writes them all, as ``enqueue_many`` would
(``asynq.client.AsyncEnqueuer``). There it also *regroups*: a caller that finds nobody sending
just after a batch came back first lets the callers that batch woke run, once, so that they
join it (a lone caller woke nobody and sends at once).
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, Generic, TypeVar

import redis.exceptions

#: Sends ``parts`` in one write and returns all ``count`` replies, errors as values; the
#: callable is the leader's own work to do once they are sent.
SyncExchange = Callable[[Sequence[bytes], int, Callable[[], None]], list[Any]]

RequestT = TypeVar("RequestT")
OutcomeT = TypeVar("OutcomeT")

#: A follower's future resolves to this when it is handed the lead.
_LEAD: Final = object()


def nothing() -> None:
    """What a batch's leader does once its batch is sent: its own ``first`` is for a lone send."""


def interrupted() -> redis.exceptions.ConnectionError:
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
            _split(batch, self._exchange((payload,), sum(r.count for r in batch), nothing))
        except Exception as exc:
            for request in batch:
                request.error = exc
        except BaseException:
            for request in batch:
                if request is not me:
                    request.error = interrupted()
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


class AsyncCoalescer(Generic[RequestT, OutcomeT]):
    """Coalesces the calls of the tasks of one event loop sharing one asyncio client.

    Unlike :class:`SyncCoalescer` it is not tied to RESP payloads: ``exchange`` sends a batch
    of requests (a lone caller's alone) and returns one outcome per request, so the asyncio
    lane batches packed calls with it and :class:`~asynq.AsyncClient` batches whole enqueues
    (composed by the leader). An outcome is handed back as it is, errors as values included;
    only an exception of ``exchange`` itself reaches every caller of the batch (the others of
    a batch whose leader was interrupted get ``interrupted()``).
    """

    def __init__(
        self,
        exchange: Callable[[list[RequestT]], Awaitable[list[OutcomeT]]],
        interrupted: Callable[[], Exception],
        *,
        regroup: bool = False,
    ) -> None:
        self._exchange = exchange
        self._interrupted = interrupted
        self._regroup = regroup
        self._woken = False
        self._leading = False
        self._queue: list[tuple[RequestT, asyncio.Future[Any]]] = []

    @property
    def waiting(self) -> int:
        """How many requests are queued behind the leader right now."""
        return len(self._queue)

    async def submit(self, request: RequestT) -> OutcomeT:
        """Send ``request`` alone or in a batch; return its outcome.

        With ``regroup``, a caller that finds nobody sending just after a batch came back
        first lets the callers that batch woke run (one pass of the event loop, no timer):
        those that call again join its batch instead of each batch alternating between a
        lone call and everyone else. A lone caller woke nobody, so it sends at once.
        """
        if not self._leading:
            self._leading = True
            if not self._woken:
                try:
                    return (await self._exchange([request]))[0]
                finally:
                    self._pass_on()
            self._woken = False
            try:
                await asyncio.sleep(0)
            except BaseException:
                self._pass_on()
                raise
            return await self._lead(request)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        try:
            outcome = await future
        except asyncio.CancelledError:
            # Not sent yet: the batch skips a done future. Handed the lead just now: pass it on.
            if future.done() and not future.cancelled() and future.result() is _LEAD:
                self._pass_on()
            raise
        if outcome is _LEAD:
            return await self._lead(request)
        mine: OutcomeT = outcome
        return mine

    async def _lead(self, request: RequestT) -> OutcomeT:
        """Send ``request`` with every request queued by now that is still waiting."""
        batch = [w for w in self._queue if not w[1].done()]
        self._queue.clear()
        self._woken = self._regroup and bool(batch)
        try:
            outcomes = await self._exchange([request, *(r for r, _ in batch)])
        except BaseException as exc:
            shared = exc if isinstance(exc, Exception) else self._interrupted()
            for _, future in batch:
                if not future.done():
                    future.set_exception(shared)
            raise
        else:
            for (_, future), outcome in zip(batch, outcomes[1:], strict=True):
                if not future.done():
                    future.set_result(outcome)
            return outcomes[0]
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        """Hand the lead to the first queued request still waiting, or put it down."""
        queue = self._queue
        while queue:
            _, successor = queue.pop(0)
            if not successor.done():
                successor.set_result(_LEAD)
                return
        self._leading = False
