"""Moves due scheduled and retry tasks to pending (Go's ``forwarder``)."""

from __future__ import annotations

from asynq._broker.ops import server_ops
from asynq.errors import AsynqError
from asynq.server._component import QueueComponent, every


class Forwarder(QueueComponent):
    """Every interval (first after one interval), forwards every due task of the queues."""

    async def run(self) -> None:
        """Forward every interval until cancelled."""
        await every(self._interval, self.forward_once)

    async def forward_once(self) -> int:
        """Forward all due tasks now, queue by queue; return how many moved.

        A queue that fails (a foreign value at one of its keys, a Redis ACL that denies it) is
        logged and skipped: the due tasks of the other queues still move.
        """
        total = 0
        for qname in self._queues:
            try:
                total += await self._driver.run(
                    server_ops.forward_if_ready([qname], self._clock.now(), self._clock.now_ns())
                )
            except AsynqError as exc:
                self._log.error("Failed to forward scheduled tasks in queue %r: %s", qname, exc)
        return total
