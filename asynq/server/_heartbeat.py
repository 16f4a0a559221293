"""Publishes this server's state and extends the leases of its tasks (Go's ``heartbeater``).

Every 5 s, in one pipelined round trip: the ``ServerInfo`` and one ``WorkerInfo`` per task in
flight (what ``Inspector.Servers()``, the CLI and Asynqmon show), with a 10 s TTL; and
``ZADD asynq:{q}:lease XX now+30 <id>...`` for every task whose local lease is still valid.
A task whose local lease has expired is interrupted instead: its outcome is left to the
recoverer. On shutdown the state is deleted.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from asynq._base.clock import Clock
from asynq._base.codec import (
    ServerInfoMessage,
    WorkerInfoMessage,
    fill_timestamp,
    fill_timestamp_ns,
)
from asynq._broker.calls import Command, Op, Pipeline, Script
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops, server_state_ops
from asynq.errors import AsynqError
from asynq.server._workers import Interrupt, Worker, WorkerRegistry

#: Go's heartbeater interval; the state TTL is twice this.
HEARTBEAT_INTERVAL = 5.0


@dataclass(frozen=True)
class ServerIdentity:
    """Who this server is in ``asynq:servers:{<host>:<pid>:<server_id>}``."""

    host: str
    pid: int
    server_id: str


class Heartbeat:
    """Writes server state and extends leases every interval."""

    def __init__(
        self,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        *,
        identity: ServerIdentity,
        concurrency: int,
        queues: Mapping[str, int],
        strict_priority: bool,
        status: Callable[[], str],
        registry: WorkerRegistry,
        interval: float = HEARTBEAT_INTERVAL,
    ) -> None:
        self._driver = driver
        self._clock = clock
        self._log = logger
        self._id = identity
        self._concurrency = concurrency
        self._queues = dict(queues)
        self._strict = strict_priority
        self._status = status
        self._registry = registry
        self._interval = interval
        self._started: float | None = None

    async def run(self) -> None:
        """Beat at once, then every interval until cancelled."""
        self._started = self._clock.now()
        while True:
            await self.beat()
            await asyncio.sleep(self._interval)

    def server_info(self) -> ServerInfoMessage:
        """The ServerInfoMessage as it would be written now."""
        info = ServerInfoMessage(
            host=self._id.host,
            pid=self._id.pid,
            server_id=self._id.server_id,
            concurrency=self._concurrency,
            queues=self._queues,
            strict_priority=self._strict,
            status=self._status(),
            active_worker_count=len(self._registry),
        )
        fill_timestamp(info.start_time, self._started)
        return info

    def _worker_infos(self) -> list[WorkerInfoMessage]:
        infos = []
        for w in self._registry:
            info = WorkerInfoMessage(
                host=self._id.host,
                pid=self._id.pid,
                server_id=self._id.server_id,
                task_id=w.msg.id,
                task_type=w.msg.type,
                task_payload=w.msg.payload,
                queue=w.msg.queue,
            )
            fill_timestamp_ns(info.start_time, w.started_ns)
            fill_timestamp(info.deadline, w.context.deadline)
            infos.append(info)
        return infos

    async def beat(self) -> None:
        """Write the state and extend the leases once."""
        if self._started is None:
            self._started = self._clock.now()
        now = self._clock.now()
        ttl = max(1, math.ceil(self._interval * 2))  # Go: 2 x interval = 10 s
        try:
            calls: list[Command | Script] = list(
                server_state_ops.write_server_state_calls(
                    self.server_info(), self._worker_infos(), ttl, now
                )
            )
        except Exception:
            # Whatever is wrong with the state, the leases below must still be extended.
            self._log.exception("Failed to build the server state data")
            calls = []
        state_calls = len(calls)
        by_queue: dict[str, list[Worker]] = {}
        for w in self._registry:
            # Only a valid lease is extended; an expired one may belong to another worker.
            if w.lease.is_valid():
                by_queue.setdefault(w.msg.queue, []).append(w)
            else:
                w.interrupt(Interrupt.LEASE_EXPIRED)
        queues = list(by_queue)
        calls += [server_ops.extend_lease_call(q, [w.id for w in by_queue[q]], now) for q in queues]
        if not calls:
            return
        try:
            replies = await self._driver.run(_pipeline(tuple(calls)))
        except AsynqError as exc:
            self._log.error("Failed to write server state data: %s", exc)
            return
        state_errors = [r for r in replies[:state_calls] if isinstance(r, Exception)]
        if state_errors:
            self._log.error("Failed to write server state data: %s", state_errors[0])
        expiry = now + server_ops.LEASE_DURATION
        for qname, reply in zip(queues, replies[state_calls:], strict=True):
            if isinstance(reply, Exception):
                ids = [w.id for w in by_queue[qname]]
                self._log.error("Failed to extend lease for tasks %s: %s", ids, reply)
                continue
            for w in by_queue[qname]:
                if not w.lease.reset(expiry):
                    self._log.warning("Lease reset failed for %s", w.id)

    async def clear(self) -> None:
        """Delete this server's state (at shutdown)."""
        try:
            await self._driver.run(
                server_state_ops.clear_server_state(self._id.host, self._id.pid, self._id.server_id)
            )
        except AsynqError as exc:
            self._log.error("Failed to clear server state: %s", exc)


def _pipeline(calls: tuple[Command | Script, ...]) -> Op[list[Any]]:
    replies = yield Pipeline(calls)
    return list(replies)
