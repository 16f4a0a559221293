"""Wakes the idle fetch loop the moment a task lands in a pending list, whoever enqueued it.

This library's enqueue publishes a wake-up message (see :mod:`asynq.server._subscriber`),
but Go producers publish nothing, so without this an idle worker would find their tasks only
at its next poll, up to the task check interval later. While the fetch loop is idle, one
waiter per queue holds a dedicated connection blocked in::

    BLMOVE asynq:{<queue>}:pending asynq:{<queue>}:pending LEFT LEFT <timeout>

which returns as soon as the list has an element. It moves the head of the list to the head
of the same list, so the list is left exactly as it was: same elements, same order, same key.
Redis runs the move as one atomic step (a blocked client is served only after the command or
Lua script that filled the list has finished), so no dequeue, Go's or ours, can run between
the pop and the push: none ever sees the list shorter, empty or reordered. Nothing else is
written. The waiter then wakes the fetch loop, which dequeues as usual.

The move is a write: it reaches replicas and the AOF like any other, and ends any ``WATCH``
on the pending list (neither Go asynq nor this library watches it).

A pending list that cannot be served would make ``BLMOVE`` return at once again and again: a
paused queue keeps its tasks pending. So after a wake-up the waiter re-arms only once the
fetch loop is idle again, and if that loop took nothing from the queue while the list is
still not empty, it waits one task check interval first, as the poll does. Each waiter
renews its wait every :data:`BLOCK_TIMEOUT` seconds; a lost connection is reopened after a
growing pause. On Redis Cluster each waiter connects to the node that holds its queue. On a
Redis without ``BLMOVE`` (before 6.2) the waiters stop and polling alone finds Go's tasks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import redis.exceptions

from asynq._base import keys
from asynq.server._own_connection import close_own, open_own

#: Seconds one blocking call waits before it is renewed (its only cost while nothing happens).
BLOCK_TIMEOUT = 30.0
#: Extra seconds the reply may take beyond the block timeout before the connection counts as lost.
REPLY_MARGIN = 5.0
#: Pauses before reconnecting after a failure: doubling from the first up to the last.
RETRY_FIRST = 0.1
RETRY_MAX = 5.0


class IdleFetcher(Protocol):
    """What the waiters need of the fetch loop (:class:`~asynq.server._processor.Processor`)."""

    @property
    def idle_round(self) -> int:
        """How many times the fetch loop has gone idle so far."""
        ...

    def wake(self, queue: str | None = None) -> None:
        """Tasks are pending in ``queue``: dequeue now."""
        ...

    async def wait_idle(self, after: int | None = None) -> int:
        """Wait until the fetch loop is idle (in a round later than ``after``); the round."""
        ...

    def taken_from(self, queue: str) -> int:
        """How many tasks the fetch loop has dequeued from ``queue`` so far."""
        ...


class PendingWaiter:
    """Runs one blocking waiter per queue until cancelled."""

    def __init__(
        self,
        redis_client: Any,
        logger: logging.Logger,
        *,
        queues: Sequence[str],
        fetcher: IdleFetcher,
        rest: float,
        block_timeout: float = BLOCK_TIMEOUT,
    ) -> None:
        self._redis = redis_client
        self._log = logger
        self._queues = list(queues)
        self._fetcher = fetcher
        self._rest = rest
        self._block_timeout = block_timeout
        #: Queues whose waiter is blocked in Redis right now (tests wait for it).
        self.armed: set[str] = set()

    async def run(self) -> None:
        """Wait on every queue's pending list until cancelled."""
        async with asyncio.TaskGroup() as group:
            for qname in self._queues:
                group.create_task(self._watch(qname), name=f"asynq-waiter-{qname}")

    async def _watch(self, qname: str) -> None:
        key = keys.pending_key(qname)
        pause = RETRY_FIRST
        while True:
            conn: Any = None
            try:
                conn = await open_own(self._redis, key)
                pause = RETRY_FIRST
                await self._serve(conn, qname, key)
            except redis.exceptions.ResponseError as exc:
                if "unknown command" in str(exc).lower():
                    self._log.info("Redis has no BLMOVE: queue %r is found by polling only", qname)
                    return
                self._log.warning("waiting on queue %r failed: %s", qname, exc)
            except (TimeoutError, OSError, redis.exceptions.RedisError) as exc:
                self._log.debug("waiting on queue %r failed: %s", qname, exc)
            finally:
                self.armed.discard(qname)
                if conn is not None:
                    await close_own(conn)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX)

    async def _serve(self, conn: Any, qname: str, key: str) -> None:
        await self._fetcher.wait_idle()
        while True:
            self.armed.add(qname)
            await conn.send_command("BLMOVE", key, key, "LEFT", "LEFT", self._block_timeout)
            moved = await conn.read_response(timeout=self._block_timeout + REPLY_MARGIN)
            self.armed.discard(qname)
            if moved is None:  # timed out: renew the wait once the fetch loop is idle
                await self._fetcher.wait_idle()
                continue
            taken = self._fetcher.taken_from(qname)
            woken_in = self._fetcher.idle_round
            self._fetcher.wake(qname)
            # The fetch loop leaves this idle round to dequeue; the next one follows its pass.
            await self._fetcher.wait_idle(woken_in)
            if self._fetcher.taken_from(qname) == taken and await _length(conn, key) > 0:
                # Woken, yet the fetch loop could take nothing from a list that still has
                # tasks (a paused queue): blocking now would return at once. Poll's pace.
                await asyncio.sleep(self._rest)
                await self._fetcher.wait_idle()


async def _length(conn: Any, key: str) -> int:
    await conn.send_command("LLEN", key)
    return int(await conn.read_response())
