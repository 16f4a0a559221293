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
        """Forward all due tasks now; return how many moved (0 on a Redis error)."""
        try:
            return await self._driver.run(
                server_ops.forward_if_ready(self._queues, self._clock.now(), self._clock.now_ns())
            )
        except AsynqError as exc:
            self._log.error("Failed to forward scheduled tasks: %s", exc)
            return 0
