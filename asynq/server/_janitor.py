"""Deletes completed tasks whose retention is over (Go's ``janitor``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from asynq._base.clock import Clock
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from asynq.errors import AsynqError
from asynq.server._component import QueueComponent, every


class Janitor(QueueComponent):
    """Every interval (first after one interval), deletes expired completed tasks."""

    def __init__(
        self,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        *,
        queues: Sequence[str],
        interval: float,
        batch_size: int,
    ) -> None:
        super().__init__(driver, clock, logger, queues=queues, interval=interval)
        self._batch_size = batch_size

    async def run(self) -> None:
        """Clean every interval until cancelled."""
        await every(self._interval, self.clean_once)

    async def clean_once(self) -> int:
        """Delete every expired completed task now; return how many."""
        total = 0
        for qname in self._queues:
            try:
                total += await self._driver.run(
                    server_ops.delete_expired_completed(qname, self._clock.now(), self._batch_size)
                )
            except AsynqError as exc:
                self._log.error(
                    "Failed to delete expired completed tasks from queue %r: %s", qname, exc
                )
        return total
