"""Moves due scheduled and retry tasks to pending (Go's ``forwarder``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from asynq._base.clock import Clock
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from asynq.errors import AsynqError


class Forwarder:
    """Every interval (first after one interval), forwards every due task of the queues."""

    def __init__(
        self,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        *,
        queues: Sequence[str],
        interval: float,
    ) -> None:
        self._driver = driver
        self._clock = clock
        self._log = logger
        self._queues = list(queues)
        self._interval = interval

    async def run(self) -> None:
        """Forward every interval until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self.forward_once()

    async def forward_once(self) -> int:
        """Forward all due tasks now; return how many moved (0 on a Redis error)."""
        try:
            return await self._driver.run(
                server_ops.forward_if_ready(self._queues, self._clock.now(), self._clock.now_ns())
            )
        except AsynqError as exc:
            self._log.error("Failed to forward scheduled tasks: %s", exc)
            return 0
