"""Listens for cancellations and new-task notices on one pub/sub connection (Go's
``subscriber``, plus wake-ups).

``asynq:cancel`` carries the id of a task to cancel (``Inspector.CancelProcessing``); it is
cancelled if it runs here. The channels named like each queue's pending list carry the
notices this library's enqueue, forward and requeue scripts publish; each one wakes the idle
fetch loop so the task is picked up at once. A lost connection is retried every 5 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import redis.exceptions

from asynq._base import keys
from asynq.server.workers import WorkerRegistry

#: Go's subscriber retry timeout.
RETRY_INTERVAL = 5.0


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
        retry_interval: float = RETRY_INTERVAL,
    ) -> None:
        self._redis = redis_client
        self._log = logger
        self._registry = registry
        self._queue_of_channel = {keys.pending_key(q): q for q in queues}
        self._pending_channels = list(self._queue_of_channel)
        self._on_pending = on_pending
        self._retry_interval = retry_interval
        #: Set while subscribed (tests wait for it before publishing).
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        """Subscribe (retrying) and handle messages until cancelled."""
        while True:
            pubsub = None
            try:
                if hasattr(self._redis, "initialize"):
                    # A cluster client learns its slots lazily; pub/sub needs them first.
                    await self._redis.initialize()
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(keys.CANCEL_CHANNEL, *self._pending_channels)
                _raise_if_cancelling()
                self.subscribed.set()
                # Anything published while we were away may have been missed: poll once.
                self._on_pending(None)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                    if message is not None:
                        self._dispatch(message)
            except Exception as exc:  # any failure: retry later, never give up listening
                self.subscribed.clear()
                self._log.error("cannot subscribe to cancelation channel: %s", exc)
            finally:
                if pubsub is not None:
                    await _close(pubsub)
            await asyncio.sleep(self._retry_interval)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        channel = _text(message.get("channel"))
        if channel == keys.CANCEL_CHANNEL:
            self._registry.cancel(_text(message.get("data")))
        else:
            self._on_pending(self._queue_of_channel.get(channel))


def _raise_if_cancelling() -> None:
    # redis-py can swallow a cancellation that lands while it connects; honour it here rather
    # than block on the subscription for ever.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _close(pubsub: Any) -> None:
    try:
        await asyncio.shield(pubsub.aclose())
    except (redis.exceptions.RedisError, OSError, asyncio.CancelledError):
        pass
