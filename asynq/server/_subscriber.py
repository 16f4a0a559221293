"""Listens for cancellations, new-task notices and handed-off tasks on one pub/sub connection
(Go's ``subscriber``, plus wake-ups and direct handoff).

``asynq:cancel`` carries the id of a task to cancel (``Inspector.CancelProcessing``); it is
cancelled if it runs here. The channels named like each queue's pending list carry the
notices this library's enqueue, forward and requeue scripts publish; each one wakes the idle
fetch loop so the task is picked up at once. With direct handoff, this server's own channel
carries the messages of tasks an enqueue handed to it (see :mod:`asynq.server._handoff`). A lost
connection is retried every 5 s.

Every message here is on the path from an enqueue to a handler, so the connection is read
without redis-py's pub/sub layer: redis-py opens it (address, TLS, auth, Sentinel, RESP
version all as configured), then its transport is handed to a small protocol whose
``data_received`` feeds a hiredis reader and dispatches each message in the same callback.
On Redis Cluster, where a PUBLISH reaches every node, the connection goes to one node.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import hiredis

from asynq._base import keys
from asynq._broker.lane import resp
from asynq.server._handoff import Handoff
from asynq.server._own_connection import close_own, open_own
from asynq.server._workers import WorkerRegistry

#: Go's subscriber retry timeout.
RETRY_INTERVAL = 5.0

_MESSAGE = b"message"
_SUBSCRIBE = b"subscribe"


class Subscriber:
    """Subscribes and dispatches messages until cancelled."""

    def __init__(
        self,
        redis_client: Any,
        logger: logging.Logger,
        *,
        registry: WorkerRegistry,
        queues: Sequence[str],
        on_pending: Callable[[str | None], None],
        handoff: Handoff | None = None,
        on_handoff: Callable[[bytes], None] | None = None,
        retry_interval: float = RETRY_INTERVAL,
    ) -> None:
        if (handoff is None) != (on_handoff is None):
            raise ValueError("handoff and on_handoff go together")
        self._redis = redis_client
        self._log = logger
        self._registry = registry
        self._queue_of_channel = {keys.pending_key(q).encode(): q for q in queues}
        self._on_pending = on_pending
        self._handoff = handoff
        self._on_handoff = on_handoff
        self._handoff_channel = None if handoff is None else handoff.channel.encode()
        self._channels = [keys.CANCEL_CHANNEL.encode(), *self._queue_of_channel]
        if self._handoff_channel is not None:
            self._channels.append(self._handoff_channel)
        self._retry_interval = retry_interval
        #: Set while subscribed to every channel (tests wait for it before publishing).
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        """Subscribe (retrying) and handle messages until cancelled."""
        while True:
            conn: Any = None
            try:
                # Any node hears a PUBLISH on Redis Cluster.
                conn = await open_own(self._redis)
                listener = _Listener(self._dispatch, len(self._channels), self._log)
                transport = _transport(conn)
                transport.set_protocol(listener)
                transport.write(resp.pack((b"SUBSCRIBE", *self._channels)))
                await listener.confirmed
                _raise_if_cancelling()
                self.subscribed.set()
                if self._handoff is not None:
                    self._handoff.listening = True
                # Anything published while we were away may have been missed: poll once.
                self._on_pending(None)
                raise await listener.lost
            except Exception as exc:  # any failure: retry later, never give up listening
                self._log.error("cannot subscribe to cancelation channel: %s", exc)
            finally:
                self.subscribed.clear()
                if self._handoff is not None:
                    self._handoff.listening = False
                if conn is not None:
                    await close_own(conn)
            await asyncio.sleep(self._retry_interval)

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        if channel == self._handoff_channel:
            assert self._on_handoff is not None
            self._on_handoff(data)
        elif channel == _CANCEL:
            self._registry.cancel(data.decode(errors="replace"))
        else:
            self._on_pending(self._queue_of_channel.get(channel))


_CANCEL = keys.CANCEL_CHANNEL.encode()


class _Listener(asyncio.Protocol):
    """Parses what a subscribed connection receives and dispatches each message at once."""

    def __init__(
        self, dispatch: Callable[[bytes, bytes], None], channels: int, log: logging.Logger
    ) -> None:
        loop = asyncio.get_running_loop()
        self._dispatch = dispatch
        self._log = log
        self._reader = hiredis.Reader(notEnoughData=resp.NOT_READY)
        self._unconfirmed = channels
        #: Resolves once Redis confirmed every subscription; fails if the connection ends first.
        self.confirmed: asyncio.Future[None] = loop.create_future()
        #: Resolves, with the reason, when the connection ends or carries something unexpected.
        self.lost: asyncio.Future[BaseException] = loop.create_future()

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not resp.NOT_READY:
            self._handle(reply)

    def _handle(self, reply: Any) -> None:
        # RESP2 sends pub/sub messages as arrays, RESP3 as pushes (a list subclass in hiredis).
        if not isinstance(reply, list) or len(reply) != 3:
            self._end(ConnectionError(f"unexpected reply on the pub/sub connection: {reply!r}"))
            return
        kind, channel, data = reply
        if kind == _MESSAGE:
            try:
                self._dispatch(channel, data)
            except Exception:  # one bad message must not cost the connection the ones after it
                self._log.exception("cannot handle a message on channel %r", channel)
        elif kind == _SUBSCRIBE:
            self._unconfirmed -= 1
            if self._unconfirmed == 0 and not self.confirmed.done():
                self.confirmed.set_result(None)

    def _end(self, reason: BaseException) -> None:
        if not self.confirmed.done():
            self.confirmed.set_exception(reason)
        if not self.lost.done():
            self.lost.set_result(reason)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(exc or ConnectionError("connection closed by the server"))


def _raise_if_cancelling() -> None:
    # redis-py can swallow a cancellation that lands while it connects; honour it here rather
    # than listen on for ever.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _transport(conn: Any) -> asyncio.Transport:
    # redis-py keeps its stream writer private; its transport is the socket taken over here.
    # The connection object must stay referenced meanwhile: redis-py closes it when collected.
    writer: asyncio.StreamWriter | None = getattr(conn, "_writer", None)
    transport = None if writer is None else writer.transport
    if not isinstance(transport, asyncio.Transport):
        raise ConnectionError("redis-py did not open a stream connection")
    return transport
