"""Sends task outcome writes, batching the ones that arrive together into one round trip.

The first write goes out at once. Writes submitted while a round trip is in flight are sent
together in one pipeline as soon as it returns, so a busy worker pays one round trip per batch
instead of one per task, and an idle one adds no delay. Each script still runs on its own, so
every task's effect on Redis is exactly that of its script.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asynq._broker.calls import Op, Pipeline, Script
from asynq._broker.drivers import AsyncDriver
from asynq.errors import AsynqError


def _send(calls: tuple[Script, ...]) -> Op[list[Any]]:
    if len(calls) == 1:
        try:
            reply = yield calls[0]
        except AsynqError as exc:  # a script error reply for the single call
            return [exc]
        return [reply]
    replies = yield Pipeline(calls)
    return list(replies)


class OutcomeWriter:
    """Batches outcome script calls; :meth:`write` returns once its own call has run."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._queue: list[tuple[Script, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def write(self, call: Script) -> None:
        """Run ``call``; raise its error (``ReplyError`` for ``NOT FOUND``, ``BrokerError``)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((call, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all())
        await future

    async def _send_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                replies = await self._driver.run(_send(tuple(call for call, _ in batch)))
            except AsynqError as exc:
                replies = [exc] * len(batch)
            except BaseException as exc:  # cancelled: fail the writers rather than hang them
                for _, future in batch:
                    if not future.done():
                        future.set_exception(AsynqError(f"outcome write aborted: {exc!r}"))
                raise
            for (_, future), reply in zip(batch, replies, strict=True):
                if future.done():
                    continue
                if isinstance(reply, BaseException):
                    future.set_exception(reply)
                else:
                    future.set_result(None)
